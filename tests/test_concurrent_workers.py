"""Two workers on one PostgreSQL database, ingesting the same conversations at once, lose and
repeat nothing: every event is decided once (by one worker or the other), and the stored
events, decisions, alerts, conversation states and age pictures equal a single worker's.

Both are real ``trygg scan`` processes, started together. Each is given two thirds of the
conversations, in stream order, so the middle third reaches both (as after a rebalance that
re-delivers a partition): the per-batch locks (``trygg.store.locks``) make a worker wait while
the other holds a conversation, then skip what the other stored and go on from there.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from scale_support import run_scan, scan_command, scan_env, store_rows
from trygg.lab.bench import generate_stream
from trygg.store.repository import Store

BATCH = 100


@pytest.mark.postgres_only(reason="two writers at once: SQLite has one writer at a time by design")
def test_two_workers_on_the_same_conversations_end_as_one_worker(tmp_path: Path, database_url: str, new_database_url: Callable[[], str]) -> None:
    stream = tmp_path / "events.jsonl"
    generate_stream(stream, messages=6_000, conversations=150, seed=23)
    reference_db = new_database_url()
    run_scan(stream, tmp_path, reference_db, "reference", BATCH)
    Store(database_url).engine.dispose()  # the schema, made once before the workers start
    parts = [_part(stream, tmp_path / "worker1.jsonl", range(0, 100)), _part(stream, tmp_path / "worker2.jsonl", range(50, 150))]

    workers = [
        subprocess.Popen(
            scan_command(parts[n - 1], tmp_path, database_url, f"worker{n}"),
            env=scan_env(BATCH), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for n in (1, 2)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=600)
        assert worker.returncode == 0, stderr[-3000:]

    per_worker = [(tmp_path / f"worker{n}.decisions.jsonl").read_text().splitlines() for n in (1, 2)]
    assert all(per_worker), "a worker decided nothing"
    reference = (tmp_path / "reference.decisions.jsonl").read_text().splitlines()
    decided = Counter(per_worker[0] + per_worker[1])
    assert decided == Counter(reference)  # each decision once, none lost, none twice
    assert store_rows(database_url) == store_rows(reference_db)


def _part(stream: Path, target: Path, conversations: range) -> Path:
    """The lines of ``stream`` that belong to these conversations (their users' accounts too)."""
    wanted = {f"c{c}" for c in conversations}
    users = {f"u{c}a" for c in conversations}
    with stream.open(encoding="utf-8") as source, target.open("w", encoding="utf-8") as out:
        for line in source:
            event = json.loads(line)
            if event.get("conversation_id") in wanted or event.get("user_id") in users:
                out.write(line)
    return target
