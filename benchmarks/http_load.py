"""HTTP load test on loopback: batches of events POSTed to /v1/events of a real server.

The server (uvicorn, the full app: auth, rate limit, audit, engine, SQLite, case intake) runs in
its own process, the load generator in this one, so the two share the machine's cores the way
a platform and trygg would not; the figure is a floor. Every event sent is then counted in the
database: throughput that loses events would not count.

    python benchmarks/http_load.py [--events 60000] [--batch 500] [--clients 2] [--no-model]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

TARGET_EVENTS_PER_SECOND = 2000
#: Batches sent before the clock starts.
WARM_UP_BATCHES = 4


def serve(database_url: str, port: int, key_file: Path, use_model: bool) -> None:
    """The server side (run in a subprocess): the app on SQLite, one ingest key written to a file."""
    import uvicorn

    from trygg.api.app import create_app
    from trygg.api.keys import create_key
    from trygg.ratelimit import RateLimit
    from trygg.compose import Settings, build_pipeline
    from trygg.store.repository import Store

    store = Store(database_url)
    pipeline = build_pipeline(Settings(media_dir=None, model=use_model), store=store)  # as `trygg serve` builds it
    app = create_app(store, pipeline.engine, prepare=pipeline.prepare, rate_limit=RateLimit(rate=10_000, burst=10_000), console=False)
    key_file.write_text(create_key(store.engine, "bench", ["ingest"]))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), to state the server's cost per
    event apart from what other processes on a shared machine take."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(events: int, batch: int, clients: int, use_model: bool) -> dict[str, object]:
    from trygg.lab.bench import generate_stream
    from trygg.store.repository import Store

    with tempfile.TemporaryDirectory(prefix="trygg-http-bench-") as folder:
        stream = Path(folder) / "events.jsonl"
        generate_stream(stream, events, max(1, events // 10))
        lines = [json.loads(line) for line in stream.read_text(encoding="utf-8").splitlines()]
        accounts = [e for e in lines if e["type"] == "account"]
        messages = [e for e in lines if e["type"] != "account"]
        database_url = f"sqlite:///{folder}/bench.db"
        port, key_file = _free_port(), Path(folder) / "key"
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", database_url, str(port), str(key_file)] + ([] if use_model else ["--no-model"]),
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    if key_file.exists() and key_file.read_text() and httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            headers = {"Authorization": f"Bearer {key_file.read_text().strip()}", "Content-Type": "application/json"}
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                for start in range(0, len(accounts), batch):
                    client.post("/v1/events", content=json.dumps(accounts[start : start + batch])).raise_for_status()
            bodies = [json.dumps(messages[start : start + batch]).encode("utf-8") for start in range(0, len(messages), batch)]
            # Warm-up, untimed: the first requests build the language detectors and load the
            # model's vocabularies (seconds, once per process). Their events are counted below.
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                for body in bodies[:WARM_UP_BATCHES]:
                    client.post("/v1/events", content=body).raise_for_status()
            timed = bodies[WARM_UP_BATCHES:]
            latencies: list[float] = []
            failures: list[str] = []
            next_body = iter(range(len(timed)))
            take = threading.Lock()

            def client_loop() -> None:
                with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                    while True:
                        with take:
                            index = next(next_body, None)
                        if index is None:
                            return
                        began = time.perf_counter()
                        response = client.post("/v1/events", content=timed[index])
                        latencies.append(time.perf_counter() - began)
                        if response.status_code != 200:
                            failures.append(f"batch {index}: {response.status_code} {response.text[:200]}")

            cpu_before = _cpu_seconds(server.pid)
            began = time.perf_counter()
            workers = [threading.Thread(target=client_loop) for _ in range(clients)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            seconds = time.perf_counter() - began
            server_cpu = _cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=30)
        stored = Store(database_url).counts()["events"]
    return {
        "events": len(messages),
        "timed_events": sum(len(json.loads(body)) for body in timed),
        "batch": batch,
        "clients": clients,
        "model": use_model,
        "seconds": round(seconds, 2),
        "events_per_second": round(sum(len(json.loads(body)) for body in timed) / seconds),
        "requests": len(timed),
        "server_cpu_seconds": round(server_cpu, 2),
        "events_per_server_cpu_second": round(sum(len(json.loads(body)) for body in timed) / server_cpu) if server_cpu else None,
        "p50_ms": round(1000 * _percentile(latencies, 0.50), 1),
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 1),
        "failed_requests": len(failures),
        "stored_events": stored,
        "all_accounted_for": stored == len(messages) and not failures,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), use_model="--no-model" not in sys.argv)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--no-model", action="store_true")
    args = parser.parse_args()
    result = run(args.events, args.batch, args.clients, not args.no_model)
    print(
        f"HTTP /v1/events on loopback: {result['timed_events']} timed events (of {result['events']}) in batches of {result['batch']} from {result['clients']} clients: "
        f"{result['events_per_second']} events/s (target {TARGET_EVENTS_PER_SECOND}), request p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms; server CPU {result['events_per_server_cpu_second']} events per CPU-second; stored {result['stored_events']} of {result['events']} "
        f"({'all accounted for' if result['all_accounted_for'] else 'MISSING EVENTS'})"
    )
    print(json.dumps(result))
    if not result["all_accounted_for"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
