"""Two workers on one PostgreSQL database, ingesting the same conversations at once, lose and
repeat nothing: every event is decided once (by one worker or the other), and the stored
events, decisions, alerts, conversation states and age pictures equal a single worker's.

Both are real ``trygg scan`` processes on the whole stream, started together; the per-batch
locks (``trygg.store.locks``) make the second worker wait for, then skip, what the first stored.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

from scale_support import run_scan, scan_command, scan_env, store_rows
from trygg.lab.bench import generate_stream
from trygg.store.repository import Store

BATCH = 100


def test_two_workers_on_the_same_conversations_end_as_one_worker(tmp_path: Path, postgres_url: str) -> None:
    stream = tmp_path / "events.jsonl"
    generate_stream(stream, messages=6_000, conversations=150, seed=23)
    reference_db = f"sqlite:///{tmp_path}/reference.db"
    run_scan(stream, tmp_path, reference_db, "reference", BATCH)
    Store(postgres_url).engine.dispose()  # the schema, made once before the workers start

    workers = [
        subprocess.Popen(
            scan_command(stream, tmp_path, postgres_url, f"worker{n}"),
            env=scan_env(BATCH), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for n in (1, 2)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=600)
        assert worker.returncode == 0, stderr[-3000:]

    per_worker = [(tmp_path / f"worker{n}.decisions.jsonl").read_text().splitlines() for n in (1, 2)]
    assert all(per_worker), "one worker decided nothing: they did not run at the same time"
    reference = (tmp_path / "reference.decisions.jsonl").read_text().splitlines()
    decided = Counter(per_worker[0] + per_worker[1])
    assert decided == Counter(reference)  # each decision once, none lost, none twice
    assert store_rows(postgres_url) == store_rows(reference_db)
