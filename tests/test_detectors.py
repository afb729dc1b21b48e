"""One detector interface for every event type, found by discovery."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import trygg.detectors
from trygg.compose import Settings, build_engine
from trygg.detectors import discover
from trygg.signals.detect import TextDetector
from trygg.engine import Engine
from trygg.events import parse_event
from trygg.model.semantic import Encoder
from trygg.signals.base import DetectionContext, Signal
from trygg.store.repository import Store


def test_discovery_finds_the_shipped_detectors(database_url: str) -> None:
    store = Store(database_url)
    found = discover(Settings(model=False), store)
    transcripts = ["TranscriptDetector"] if Encoder.available() else []  # needs the semantic extra
    assert [type(d).__name__ for d in found["message"]] == ["TextDetector", *transcripts]
    assert [type(d).__name__ for d in found["media"]] == ["MediaDetector"]
    assert "media" not in discover(Settings(model=False, media=False), store)


class _Shouting:
    """A detector a platform might add: a whole message in capitals, as a weak signal."""

    event_types = frozenset({"message"})

    def detect(self, event, context: DetectionContext) -> list[Signal]:
        text = event.text
        return [Signal("shouting", 0.3, event.event_id, (0, len(text)))] if len(text) > 5 and text.isupper() else []


def test_signals_of_every_detector_reach_the_state() -> None:
    engine = Engine(detectors=[TextDetector(), _Shouting()])
    decision = engine.process(
        parse_event({"type": "message", "event_id": "e1", "conversation_id": "c", "sender_id": "a", "recipient_id": "b", "text": "SEND ME A PIC NOW"})
    )
    assert decision is not None
    state = engine.dump_conversation("c")
    families = set(state["participants"]["a"]["f"])
    assert {"shouting", "image_request"} <= families


def test_a_new_module_in_the_package_is_discovered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What docs/extending.md shows: one module with build(settings, store), nothing else."""
    (tmp_path / "shouting.py").write_text(
        "from trygg.signals.base import Signal\n"
        "class Shouting:\n"
        "    event_types = frozenset({'message'})\n"
        "    def detect(self, event, context):\n"
        "        return [Signal('shouting', 0.3, event.event_id)] if event.text.isupper() else []\n"
        "def build(settings, store):\n"
        "    return Shouting()\n"
    )
    monkeypatch.setattr(trygg.detectors, "__path__", [*trygg.detectors.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "trygg.detectors.shouting", raising=False)
    engine = build_engine(Settings(model=False, media=False, transcripts=False))
    assert [type(d).__name__ for d in engine.detectors["message"]] == ["Shouting", "TextDetector"]
    assert isinstance(sys.modules["trygg.detectors.shouting"], types.ModuleType)


def test_media_detectors_are_told_who_is_a_minor() -> None:
    seen = []

    class _Recorder:
        event_types = frozenset({"media"})

        def detect(self, event, context):
            seen.append((context.sender_minor, context.recipient_minor, context.normalized))
            return []

    engine = Engine(detectors=[TextDetector(), _Recorder()])
    engine.process(parse_event({"type": "account", "user_id": "kid", "declared_age": 13}))
    engine.process(parse_event({"type": "media", "event_id": "m1", "conversation_id": "c", "sender_id": "x", "recipient_id": "kid", "media_type": "image", "pdq": "0" * 64}))
    assert seen == [(False, True, None)]
