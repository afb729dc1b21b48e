"""Scale figures: one process on SQLite and on PostgreSQL, and a Ray scan with 1 and 2 actors.

Each configuration scans the same generated stream (``trygg.lab.bench.generate_stream``) into
a fresh database, with the shipped model; the clock runs from the first line read to the last
batch committed (the Ray cluster and its actors, model loaded, are started before). The
sizing table turns the measured per-worker rate into workers for a daily volume, at a stated
headroom. PostgreSQL is the local server (``TRYGG_TEST_POSTGRES_URL``); it is skipped, saying
so, when unreachable, and Ray when the ``ray`` extra is absent.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

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


def _ray(stream: Path, url: str, settings: Settings, workers: int) -> dict[str, Any]:
    import ray

    from trygg.cluster import ray_scan

    store = Store(url)
    actors = ray_scan.start_workers(settings, url, workers)
    original = ray_scan.start_workers
    ray_scan.start_workers = lambda *_args: actors  # the actors above, already warm
    try:
        started = time.perf_counter()
        with stream.open("rb") as handle:
            report, _ = ray_scan.scan_on_ray(handle, settings, store, url, workers)
        seconds = time.perf_counter() - started
    finally:
        ray_scan.start_workers = original
    for actor in actors:
        ray.kill(actor)
    return {"workers": workers, "messages": report.processed, "seconds": round(seconds, 2), "messages_per_second": round(report.processed / seconds, 1)}


def sizing(per_worker: float, daily: float = 1e9) -> dict[str, Any]:
    """Messages a day one worker carries at the headroom, and workers for ``daily`` messages."""
    per_day = per_worker * 86_400 * HEADROOM
    return {"messages_per_day_per_worker": round(per_day), "workers_for_1e9_per_day": math.ceil(daily / per_day)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--conversations", type=int, default=5_000)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
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
                import ray
            except ImportError:
                print("  Ray skipped: the ray extra is not installed")
            else:
                ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
                for workers in (1, 2):
                    results[f"ray_{workers}"] = _ray(stream, f"sqlite:///{folder}/ray{workers}.db", settings, workers)
                    print(f"  Ray, {workers} actor(s), SQLite: {results[f'ray_{workers}']['messages_per_second']:8.0f} msg/s")
                ray.shutdown()
                ratio = results["ray_2"]["messages_per_second"] / results["ray_1"]["messages_per_second"]
                results["ray_2_over_1"] = round(ratio, 2)
                print(f"  Ray 2 actors / 1 actor: {ratio:.2f} (cores on this machine: {os.cpu_count()})")
    results["sizing"] = sizing(results["sqlite"]["messages_per_second"])
    results["headroom"] = HEADROOM
    print(
        f"  sizing at {HEADROOM:.0%} headroom: {results['sizing']['messages_per_day_per_worker']:,} messages/day per worker, "
        f"{results['sizing']['workers_for_1e9_per_day']} workers for 1 billion a day"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
