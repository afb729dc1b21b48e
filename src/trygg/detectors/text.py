"""Messages: the language packs' patterns (``trygg.signals``), the detector every engine has."""

from __future__ import annotations

from typing import Any

from trygg.signals import detect_signals
from trygg.signals.base import DetectionContext, Signal


class TextDetector:
    """Grooming, solicitation and sextortion cues in a message's text, in its language's pack."""

    event_types = frozenset({"message"})

    def detect(self, event: Any, context: DetectionContext) -> list[Signal]:
        assert context.normalized is not None, "messages are detected on their normalised text"
        return detect_signals(context.normalized, event.event_id, context.language)  # type: ignore[arg-type]


def build(settings: Any, store: Any) -> TextDetector:  # noqa: ARG001 - always on
    return TextDetector()
