"""Messages: the language packs' patterns (``trygg.signals``), the detector every engine has."""

from __future__ import annotations

from typing import Any

from trygg.signals.detect import TextDetector, warm_up


def build(settings: Any, store: Any) -> TextDetector:  # noqa: ARG001 - always on
    """The text detector, its packs compiled up front: an engine built by the composition root
    serves traffic, and should not compile a pack on a user's message."""
    warm_up()
    return TextDetector()
