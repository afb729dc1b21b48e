"""The main job with persistence: SQLite and PostgreSQL for real, resume without double-counting."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from trygg.demo import demo_events_path
from trygg.engine import Engine
from trygg.events import read_events, read_lines
from trygg.scan import scan
from trygg.store.repository import Store


def _scan(path_or_lines, url: str, batch_size: int = 7):
    engine = Engine()
    parsed = read_events(path_or_lines) if isinstance(path_or_lines, Path) else read_lines(path_or_lines)
    report = scan(parsed, engine, Store(url), batch_size=batch_size)
    return engine, report


def _summaries(engine: Engine, report) -> dict:
    return {cid: engine.summary(cid) for cid in report.conversation_ids}


def test_scan_persists_and_rerun_resumes_without_double_counting(database_url: str) -> None:
    path = demo_events_path()
    engine, first = _scan(path, database_url)
    counts = Store(database_url).counts()
    assert first.errors and first.errors[0].field == "text"  # the demo's malformed line
    assert first.duplicates == 1  # the demo's re-sent event
    assert counts["events"] == first.processed
    assert first.accounts == _accounts(path)
    assert counts["alerts"] >= 1 and counts["decisions"] >= 1

    engine2, second = _scan(path, database_url)
    assert second.processed == 0
    assert second.duplicates == first.processed + first.duplicates
    assert Store(database_url).counts() == counts
    assert _summaries(engine2, second) == _summaries(engine, first)


def _accounts(path: Path) -> int:
    return sum(1 for p in read_events(path) if p.event and p.event.type == "account")


def test_interrupted_scan_resumes_to_the_same_result(database_url: str, new_database_url: Callable[[], str]) -> None:
    lines = demo_events_path().read_bytes().splitlines()
    reference_url = new_database_url()
    reference_engine, reference = _scan(lines, reference_url)
    half = len(lines) // 2
    _scan(lines[:half], database_url)
    engine, resumed = _scan(lines, database_url)
    assert _summaries(engine, resumed) == _summaries(reference_engine, reference)
    assert Store(database_url).counts() == Store(reference_url).counts()


def test_unsupported_database_is_a_clear_error() -> None:
    with pytest.raises(Exception) as info:
        Store("mysql+nonexistentdriver://x@127.0.0.1/db")
    assert "nonexistentdriver" in str(info.value) or "dialect" in str(info.value)


def test_message_text_is_not_stored_only_its_hash(database_url: str) -> None:
    from sqlalchemy import text as sql

    secret = "my address is Storgatan 1"
    line = json.dumps({"type": "message", "event_id": "p1", "conversation_id": "c", "sender_id": "a", "recipient_id": "b", "text": secret})
    _scan([line.encode()], database_url)
    store = Store(database_url)
    with store.engine.connect() as connection:
        dump = "\n".join(str(row) for table in ("events", "conversations", "users", "decisions") for row in connection.execute(sql(f"select * from {table}")))
    assert "Storgatan" not in dump
    assert "p1" in dump


def test_a_relationship_survives_a_resumed_scan(database_url: str) -> None:
    """A link sent in one run still lowers ordinary cues in the next (stored with the users)."""
    link = '{"type":"relationship","event_id":"r1","user_id":"gran","other_id":"kid","relationship":"family"}'
    ages = ['{"type":"account","user_id":"gran","declared_age":70}', '{"type":"account","user_id":"kid","declared_age":12}']
    texts = ["i sent you 200, buy yourself something nice", "send me a pic of you when you're wearing it",
             "keep it between us, your brother doesn't need to know"]
    messages = [
        json.dumps({"type": "message", "event_id": f"m{i}", "conversation_id": "c", "sender_id": "gran",
                    "recipient_id": "kid", "text": text})
        for i, text in enumerate(texts)
    ]
    _scan([link, *ages], database_url)
    resumed, _ = _scan(messages, database_url)
    assert resumed.relations.familiarity("kid", "gran") == 0.8
    fresh = Engine()
    for line in read_lines([*ages, *messages]):
        fresh.process(line.event)
    assert resumed.summary("c")["risk"] < fresh.summary("c")["risk"]


def test_an_identifier_holding_a_nul_is_a_rejected_line_and_the_scan_goes_on(database_url: str) -> None:
    """PostgreSQL keeps no NUL in a text column: one such event stopped a whole scan there."""
    lines = [
        json.dumps({"type": "message", "event_id": "m\u00001", "conversation_id": "c1", "sender_id": "a", "text": "hej"}),
        json.dumps({"type": "relationship", "event_id": "r1", "user_id": "p", "other_id": "k\u0000", "relationship": "parent"}),
        json.dumps({"type": "message", "event_id": "m2", "conversation_id": "c1", "sender_id": "a", "text": "hej\u0000 hej"}),
    ]
    _, report = _scan([line.encode() for line in lines], database_url)
    assert [(e.line, e.field) for e in report.errors] == [(1, "event_id"), (2, "other_id")]
    assert "NUL" in report.errors[0].message
    assert report.processed == 1 and Store(database_url).counts()["events"] == 1  # the text may hold one
