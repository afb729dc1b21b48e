"""Messages: the language packs' patterns (``trygg.signals``), the detector every engine has."""

from __future__ import annotations

from typing import Any

from trygg.signals.detect import TextDetector


def build(settings: Any, store: Any) -> TextDetector:  # noqa: ARG001 - always on
    return TextDetector()
