"""The written adult-adult and teen-teen chats: ordinary (flirting, crushes, secrets among
friends, moving to Snapchat, meeting up) and never grooming. The full engine, with the learned
model fused in, must leave every one of them unflagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from trygg.engine import Engine
from trygg.events import AccountEvent, MessageEvent, read_events
from trygg.model import load_default

FIXTURES = Path(__file__).parent / "fixtures" / "chats"
FILES = sorted(FIXTURES.glob("*/*.jsonl"))


def _events(path: Path) -> list[object]:
    return [parsed.event for parsed in read_events(path, strict=True)]


@pytest.mark.parametrize("kind, lo, hi", [("adult_adult", 18, 130), ("teen_teen", 12, 17)])
def test_fixture_sets_are_complete_and_declare_ages(kind: str, lo: int, hi: int) -> None:
    files = sorted((FIXTURES / kind).glob("*.jsonl"))
    assert len(files) >= 20
    languages = {path.stem.split("-")[1][:2] for path in files}
    assert languages == {"en", "sv"}
    for path in files:
        events = _events(path)
        accounts = [e for e in events if isinstance(e, AccountEvent)]
        messages = [e for e in events if isinstance(e, MessageEvent)]
        assert len(accounts) == 2 and all(lo <= (a.declared_age or 0) <= hi for a in accounts), path.name
        assert len({m.sender_id for m in messages}) == 2 and len(messages) >= 8, path.name


@pytest.mark.parametrize("with_model", [False, True], ids=["rules", "rules+model"])
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_fixture_chat_is_not_flagged(path: Path, with_model: bool) -> None:
    model = load_default() if with_model else None
    if with_model and model is None:
        pytest.skip("no shipped model artefacts in src/trygg/model/artifacts (run `trygg train`)")
    engine = Engine(model=model)
    severe = []
    for event in _events(path):
        decision = engine.process(event)
        if decision is not None and decision.severe:
            severe.append((decision.event_id, decision.actions))
    summary = engine.summary(path.stem)
    assert not summary["flagged"], summary
    assert not severe, severe
