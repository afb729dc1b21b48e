"""Helpers for the crash, concurrency and cluster tests: scans as real subprocesses, and the
store's rows in a form two runs can be compared by (timestamps of when a row was written left
out: they differ between any two runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text

from trygg.store.repository import Store

REPO = Path(__file__).resolve().parents[1]


def scan_command(events: Path, folder: Path, db: str, name: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "trygg.cli", "scan", str(events),
        "--out", str(folder / f"{name}.out.jsonl"), "--decisions", str(folder / f"{name}.decisions.jsonl"),
        "--db", db, "--no-model", *extra,
    ]


def scan_env(batch_size: int) -> dict[str, str]:
    env = dict(os.environ, TRYGG_SCAN_BATCH_SIZE=str(batch_size))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    return env


def run_scan(events: Path, folder: Path, db: str, name: str, batch_size: int, *extra: str) -> None:
    result = subprocess.run(
        scan_command(events, folder, db, name, *extra), env=scan_env(batch_size), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]


_ROWS = {
    "events": "SELECT event_id, type, conversation_id, sender_id, recipient_id, text_sha256 FROM events",
    "decisions": "SELECT event_id, conversation_id, actions, risk, reasons, policy FROM decisions",
    "alerts": "SELECT conversation_id, first_alert_event_id, label_guess, risk, offender_id, reasons FROM alerts",
    "conversations": "SELECT conversation_id, state, risk, flagged FROM conversations",
    "users": "SELECT user_id, age_picture FROM users",
}


def store_rows(db: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the core tables, JSON columns parsed, sorted: equal for equal outcomes.

    A conversation's ``language_state`` is left out: by design it keeps no text, so a tracker
    that had not settled yet when its conversation was resumed (after a crash, or in another
    worker) gathers text afresh, and its letter count and confidence may differ from an
    uninterrupted run's. Everything the language decides (signals, risks, decisions) is compared.
    """
    store = Store(db)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as connection:
        for table, sql in _ROWS.items():
            rows = [tuple(_parsed(v) for v in row) for row in connection.execute(text(sql))]
            out[table] = sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))
    store.engine.dispose()
    return out


def _parsed(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        value = json.loads(value)
    if isinstance(value, dict):
        value.pop("language_state", None)
    return value
