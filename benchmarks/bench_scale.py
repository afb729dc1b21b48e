"""Scale figures: one process on SQLite and on PostgreSQL, and a Ray scan with 1 and 2 actors.

Each configuration scans the same generated stream (``trygg.lab.bench.generate_stream``) into
a fresh database, with the shipped model; the clock runs from the first line read to the last
batch committed (the Ray cluster and its actors, model loaded, are started before). The Ray
runs alternate 1 and 2 actors a few times and report the median ratio, with the CPU seconds of
the driver, the actors and Ray's own processes: on a machine with few cores these say how far
the two-actor run could get at best (they share the cores with the driver and Ray). The
sizing table turns the measured per-worker rate into workers for a daily volume, at a stated
headroom. PostgreSQL is the local server (``TRYGG_TEST_POSTGRES_URL``); it is skipped, saying
so, when unreachable, and Ray when the ``ray`` extra is absent.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from trygg import GC_THRESHOLDS
from trygg.compose import Settings, build_engine
from trygg.events import read_events
from trygg.lab.bench import generate_stream
from trygg.scan import scan
from trygg.store.repository import Store

POSTGRES = os.environ.get("TRYGG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: Workers are sized to run at this share of their measured rate (peaks, rebalancing, restarts).
HEADROOM = 0.5


def _single(stream: Path, url: str, settings: Settings) -> dict[str, Any]:
    store = Store(url)
    engine = build_engine(settings, store=store)
    engine.process(next(p.event for p in read_events(stream) if p.event and p.event.type == "message"))  # warm up
    engine = build_engine(settings, store=store)
    started = time.perf_counter()
    report = scan(read_events(stream), engine, store)
    seconds = time.perf_counter() - started
    store.engine.dispose()
    return {"messages": report.processed, "seconds": round(seconds, 2), "messages_per_second": round(report.processed / seconds, 1)}


def _postgres_database() -> tuple[str, Any] | None:
    try:
        from sqlalchemy import create_engine, text

        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        name = f"trygg_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no server here: say so and go on
        print(f"  PostgreSQL skipped: not reachable at {POSTGRES} ({exc.__class__.__name__})")
        return None
    return POSTGRES.rsplit("/", 1)[0] + "/" + name, (admin, name)


def _drop(handle: Any) -> None:
    from sqlalchemy import text

    admin, name = handle
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux ``/proc``; 0 where it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants() -> list[int]:
    """This process's descendants: the local Ray cluster's own processes and its workers."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [os.getpid()]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _ray(stream: Path, url: str, settings: Settings, workers: int) -> dict[str, Any]:
    """One Ray scan; its rate, and the CPU seconds of the driver, the actors and Ray's own
    processes (raylet, GCS, idle workers) while it ran."""
    import ray

    from trygg.cluster import ray_scan

    store = Store(url)
    actors = ray_scan.start_workers(settings, url, workers)
    pids = ray.get([actor.__ray_call__.remote(lambda _self: os.getpid()) for actor in actors])
    others = [pid for pid in _descendants() if pid not in pids]
    before = {pid: _cpu_seconds(pid) for pid in pids + others}
    original = ray_scan.start_workers
    ray_scan.start_workers = lambda *_args: actors  # the actors above, already warm
    try:
        driver = time.process_time()
        started = time.perf_counter()
        with stream.open("rb") as handle:
            report, _ = ray_scan.scan_on_ray(handle, settings, store, url, workers)
        seconds = time.perf_counter() - started
        driver = time.process_time() - driver
    finally:
        ray_scan.start_workers = original
    cpu = {
        "driver": round(driver, 2),
        "actors": round(sum(_cpu_seconds(pid) - before[pid] for pid in pids), 2),
        "ray": round(sum(_cpu_seconds(pid) - before[pid] for pid in others), 2),
    }
    for actor in actors:
        ray.kill(actor)
    store.engine.dispose()
    return {
        "workers": workers,
        "messages": report.processed,
        "seconds": round(seconds, 2),
        "messages_per_second": round(report.processed / seconds, 1),
        "cpu_seconds": cpu,
        # How many cores the run had, on average: two actors that got little more than one
        # core shared the machine with something else, and their ratio says so, not Ray.
        "cores_used": round(sum(cpu.values()) / seconds, 2),
        "load_average": round(os.getloadavg()[0], 2),
    }


def _ray_figures(stream: Path, folder: str, settings: Settings, repeats: int) -> dict[str, Any]:
    """1 and 2 actors, alternated ``repeats`` times (a shared machine drifts: a ratio of two
    neighbouring runs says more than two runs minutes apart); the median of the ratios, and
    the most the CPU seconds allow on this machine's cores."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    try:
        for repeat in range(repeats):
            for workers in (1, 2):
                run = _ray(stream, f"sqlite:///{folder}/ray{workers}-{repeat}.db", settings, workers)
                runs[workers].append(run)
                cpu = run["cpu_seconds"]
                print(
                    f"  Ray, {workers} actor(s), SQLite: {run['messages_per_second']:8.0f} msg/s "
                    f"(CPU s: driver {cpu['driver']:.2f}, actors {cpu['actors']:.2f}, Ray {cpu['ray']:.2f}; "
                    f"cores used {run['cores_used']:.2f}, load average {run['load_average']:.2f})"
                )
    finally:
        ray.shutdown()
    ratios = [two["messages_per_second"] / one["messages_per_second"] for one, two in zip(runs[1], runs[2])]
    # On c cores a run takes at least its CPU seconds / c, and at least its busiest actor's
    # seconds (an actor is one process). The ratio of the two least times is what the CPU the
    # runs needed allows here: the two-actor run shares the cores with the driver and Ray.
    cores = os.cpu_count() or 1

    def least(run: dict[str, Any]) -> float:
        cpu = run["cpu_seconds"]
        return max(sum(cpu.values()) / cores, cpu["actors"] / run["workers"])

    ceilings = [least(one) / least(two) for one, two in zip(runs[1], runs[2]) if least(two) > 0]
    return {
        "ray_1": _median_run(runs[1]),
        "ray_2": _median_run(runs[2]),
        "ray_runs": runs,
        "ray_2_over_1": round(statistics.median(ratios), 2),
        "ray_2_over_1_each": [round(r, 2) for r in ratios],
        # The fastest run of each is the one other jobs disturbed least.
        "ray_2_over_1_best": round(max(r["messages_per_second"] for r in runs[2]) / max(r["messages_per_second"] for r in runs[1]), 2),
        "ray_2_over_1_cpu_ceiling": round(statistics.median(ceilings), 2) if ceilings else None,
    }


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda run: run["messages_per_second"])[len(runs) // 2]


def sizing(per_worker: float, daily: float = 1e9) -> dict[str, Any]:
    """Messages a day one worker carries at the headroom, and workers for ``daily`` messages."""
    per_day = per_worker * 86_400 * HEADROOM
    return {"messages_per_day_per_worker": round(per_day), "workers_for_1e9_per_day": math.ceil(daily / per_day)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--conversations", type=int, default=5_000)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--ray-repeats", type=int, default=3, help="1- and 2-actor runs, alternated, this many times")
    args = parser.parse_args()
    gc.set_threshold(*GC_THRESHOLDS)  # as the trygg command runs (its actors too)
    settings = Settings(media=False)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="trygg-scale-") as folder:
        stream = Path(folder) / "stream.jsonl"
        generate_stream(stream, args.messages, args.conversations)
        results["sqlite"] = _single(stream, f"sqlite:///{folder}/single.db", settings)
        print(f"  one process, SQLite:     {results['sqlite']['messages_per_second']:8.0f} msg/s")
        database = _postgres_database()
        if database is not None:
            url, handle = database
            try:
                results["postgresql"] = _single(stream, url, settings)
            finally:
                _drop(handle)
            ratio = results["postgresql"]["messages_per_second"] / results["sqlite"]["messages_per_second"]
            results["postgresql_over_sqlite"] = round(ratio, 2)
            print(f"  one process, PostgreSQL: {results['postgresql']['messages_per_second']:8.0f} msg/s (PostgreSQL / SQLite {ratio:.2f})")
        if not args.no_ray:
            try:
                import ray  # noqa: F401
            except ImportError:
                print("  Ray skipped: the ray extra is not installed")
            else:
                results.update(_ray_figures(stream, folder, settings, args.ray_repeats))
                print(
                    f"  Ray 2 actors / 1 actor: {results['ray_2_over_1']:.2f} (median of {results['ray_2_over_1_each']}; "
                    f"fastest / fastest {results['ray_2_over_1_best']:.2f}; cores on this machine: {os.cpu_count()}; "
                    f"the CPU seconds allow at most {results['ray_2_over_1_cpu_ceiling']})"
                )
    results["sizing"] = sizing(results["sqlite"]["messages_per_second"])
    results["headroom"] = HEADROOM
    print(
        f"  sizing at {HEADROOM:.0%} headroom: {results['sizing']['messages_per_day_per_worker']:,} messages/day per worker, "
        f"{results['sizing']['workers_for_1e9_per_day']} workers for 1 billion a day"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
