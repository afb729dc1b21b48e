"""Building the media parts: the ingest that adapters run before the engine, and the engine's detector.

``build_media(sql_engine, base_dir, nudity=True)`` returns ``(ingest, detector)``: ``ingest`` is
the adapters' hook (``scan(..., prepare=ingest)``, ``create_app(..., prepare=ingest)``), which
turns each media event into a prepared one (hashes and nudity score computed, bytes dropped);
``detector`` goes into ``Engine(media=detector)`` and matches those hashes against the banks in
memory. Both load on the first media event, not before: most scans carry no media, and the hash
banks and the nudity model take seconds and memory to load. Without the ``media`` extra a media
event gets a precise error reason instead of a silent allow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trygg.events import Event, MediaEvent
from trygg.media.detect import MediaDetector
from trygg.media.errors import MediaError
from trygg.media.facts import MediaFacts, PreparedMedia


class MediaUnavailable(MediaError):
    """The media extra is not installed: media events cannot be processed here."""


class LazyMediaIngest:
    """The adapters' prepare hook; builds :class:`trygg.media.ingest.MediaIngest` on the first
    media event (other events pass through untouched and load nothing)."""

    def __init__(self, base_dir: str | Path | None, nudity: bool = True, video_every_seconds: float = 1.0) -> None:
        """``base_dir``: where media paths are resolved; None accepts only ``data`` and ``pdq``
        (an HTTP client must not make the server read its own files). ``nudity``: score images
        with the bundled classifier when the ``nudity`` extra is installed."""
        self._base_dir = base_dir
        self._nudity = nudity
        self._video_every_seconds = video_every_seconds
        self._ingest: Any = None

    def __call__(self, event: Event) -> Event:
        if not isinstance(event, MediaEvent) or isinstance(event, PreparedMedia):
            return event
        if self._ingest is None:
            try:
                self._ingest = self._build()
            except MediaUnavailable as exc:
                return PreparedMedia.of(event, MediaFacts(error=exc))
        return self._ingest(event)

    def _build(self) -> Any:
        try:
            from trygg.media.ingest import MediaIngest
        except ImportError as exc:
            raise MediaUnavailable("media", f"media events need the 'media' extra: {exc}") from None
        scorer = None
        if self._nudity:
            try:
                from trygg.media.nudity import NudityClassifier, NudityUnavailable

                scorer = NudityClassifier()
            except (ImportError, NudityUnavailable):
                scorer = None  # hash matching still works; nudity protection is off
        return MediaIngest(self._base_dir, nudity=scorer, video_every_seconds=self._video_every_seconds)


def load_matcher(sql_engine: Any) -> Any:
    """Every bank of the store's database, loaded into memory (``trygg.media.matcher.Matcher``)."""
    try:
        from trygg.media.banks import BankStore
        from trygg.media.matcher import Matcher
    except ImportError as exc:
        raise MediaUnavailable("media", f"media events need the 'media' extra: {exc}") from None
    return Matcher(BankStore(engine=sql_engine))


def build_media(
    sql_engine: Any, base_dir: str | Path | None, nudity: bool = True, video_every_seconds: float = 1.0
) -> tuple[LazyMediaIngest, MediaDetector]:
    """The ingest hook and the engine's media detector over the banks in ``sql_engine``'s database."""
    ingest = LazyMediaIngest(base_dir, nudity=nudity, video_every_seconds=video_every_seconds)
    return ingest, MediaDetector(load=lambda: load_matcher(sql_engine))
