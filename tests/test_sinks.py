"""Outputs behind one interface: every sink gets each batch after the store has it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from trygg.compose import Settings, build_pipeline
from trygg.events import read_lines
from trygg.scan import scan
from trygg.sinks import Batch, CollectingSink, JsonlDecisionSink
from trygg.store.repository import Store

_GROOMING = [
    {"type": "account", "user_id": "kid1", "declared_age": 13},
    {"type": "account", "user_id": "kid2", "declared_age": 12},
    {"type": "account", "user_id": "man", "declared_age": 41},
]
for kid in ("kid1", "kid2"):
    for n, line in enumerate(
        [
            "hey cutie how old are you",
            "you are so mature for your age, dont tell your parents about me",
            "add me on snapchat, delete these messages ok",
            "send me a pic of you, just for me, our secret",
            "i can pick you up after school, come alone",
        ]
    ):
        _GROOMING.append(
            {"type": "message", "event_id": f"{kid}-{n}", "conversation_id": f"c-{kid}", "sender_id": "man", "recipient_id": kid, "text": line}
        )


def _lines() -> list[str]:
    return [json.dumps(event) for event in _GROOMING]


class _Recorder:
    """A sink that checks, when it is written, that the store already holds the batch."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.batches: list[Batch] = []
        self.stored_when_written: list[int] = []

    def write(self, batch: Batch) -> None:
        self.batches.append(batch)
        with self.store.engine.connect() as connection:
            self.stored_when_written.append(connection.execute(text("SELECT count(*) FROM events")).scalar_one())

    def close(self) -> None:
        return None


def test_sinks_get_each_batch_after_it_is_stored(database_url: str) -> None:
    store = Store(database_url)
    recorder = _Recorder(store)
    pipeline = build_pipeline(Settings(model=False, cases=False), store=store)
    scan(read_lines(_lines()), pipeline.engine, store, sinks=[recorder], batch_size=4)
    assert len(recorder.batches) == 4  # 13 lines in batches of 4
    assert recorder.stored_when_written == [1, 5, 9, 10]  # message rows already committed
    assert [e.event_id for b in recorder.batches for e, _ in b.decided if hasattr(e, "event_id")][:2] == ["kid1-0", "kid1-1"]


def test_jsonl_sink_writes_every_decision(tmp_path: Path, database_url: str) -> None:
    store = Store(database_url)
    out = tmp_path / "decisions.jsonl"
    sink, answer = JsonlDecisionSink(out), CollectingSink()
    pipeline = build_pipeline(Settings(model=False, cases=False), store=store)
    scan(read_lines(_lines()), pipeline.engine, store, sinks=[sink, answer])
    sink.close()
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert written == [d.as_dict() for d in answer.decisions]
    assert any("hold_for_review" in d["actions"] for d in written)


def test_cases_open_through_the_pipeline_sinks(database_url: str) -> None:
    """One adult grooming two children is one case with two victims, opened by the sink."""
    store = Store(database_url)
    pipeline = build_pipeline(Settings(model=False), store=store)
    assert [type(s).__name__ for s in pipeline.sinks] == ["CaseSink"]
    scan(read_lines(_lines()), pipeline.engine, store, sinks=pipeline.sinks)
    with store.engine.connect() as connection:
        cases = connection.execute(text("SELECT case_id, offender_id FROM cases")).all()
        victims = {row[0] for row in connection.execute(text("SELECT ref FROM case_links WHERE kind = 'victim'"))}
    assert [offender for _case, offender in cases] == ["man"]
    assert victims == {"kid1", "kid2"}


def test_cases_off_leaves_no_sink(database_url: str) -> None:
    store = Store(database_url)
    assert build_pipeline(Settings(model=False, cases=False), store=store).sinks == ()
