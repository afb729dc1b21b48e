"""Signal detectors: ``detect_signals(normalized, event_id, language) -> list[Signal]``.

``detect_signals`` is imported lazily: the language packs (``trygg.lang``) import
``trygg.signals.base`` for the family list, and an eager import here would make that circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trygg.signals.base import SIGNAL_FAMILIES, Signal

if TYPE_CHECKING:
    from trygg.signals.detect import detect_signals

__all__ = ["SIGNAL_FAMILIES", "Signal", "detect_signals"]


def __getattr__(name: str) -> Any:
    if name == "detect_signals":
        from trygg.signals.detect import detect_signals

        return detect_signals
    raise AttributeError(f"module 'trygg.signals' has no attribute {name!r}")
