"""Media: hash-bank matches and nudity scores, from what the media ingest computed."""

from __future__ import annotations

from typing import Any


def build(settings: Any, store: Any) -> Any:
    """The media detector over the store's hash banks (loaded into memory on first use), or
    None when media are off or there is no store to hold banks."""
    if not settings.media or store is None:
        return None
    from trygg.media_wiring import build_detector

    return build_detector(store.engine)
