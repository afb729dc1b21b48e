"""Giving the engine its media assessor, loaded only when the first media event arrives.

Most scans carry no media; loading the hash banks into an index and the nudity model costs
seconds and memory, so the assessor is built on first use. Without the ``media`` extra a media
event gets a precise error reason instead of a silent allow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trygg.events import MediaEvent
from trygg.media.errors import MediaError


class MediaUnavailable(MediaError):
    """The media extra is not installed: media events cannot be assessed here."""


class LazyMediaAssessor:
    """Builds ``trygg.media.assess.MediaAssessor`` over the store's banks on the first call."""

    def __init__(self, sql_engine: Any, base_dir: str | Path | None) -> None:
        """``base_dir``: where media paths are resolved; None accepts only ``data`` and ``pdq``
        (an HTTP client must not make the server read its own files)."""
        self._sql_engine = sql_engine
        self._base_dir = Path(base_dir) if base_dir is not None else None
        self._assessor: Any = None
        #: PDQ hashes computed since the last :meth:`drain_hashes` (event id to hash, quality):
        #: the scan stores them so a later bank entry can be matched against media already sent.
        self._hashes: dict[str, tuple[str, int | None]] = {}

    def _build(self) -> Any:
        try:
            from trygg.media.assess import MediaAssessor
            from trygg.media.banks import BankStore
            from trygg.media.matcher import Matcher
        except ImportError as exc:
            raise MediaUnavailable("media", f"media events need the 'media' extra: {exc}") from None
        nudity = None
        try:
            from trygg.media.nudity import NudityClassifier, NudityUnavailable

            nudity = NudityClassifier()
        except (ImportError, NudityUnavailable):
            nudity = None  # hash matching still works; nudity protection is reported as off
        base_dir = self._base_dir if self._base_dir is not None else Path.cwd()
        return MediaAssessor(Matcher(BankStore(engine=self._sql_engine)), nudity=nudity, base_dir=base_dir)

    def assess(self, event: MediaEvent, sender_is_minor: bool | None, recipient_is_minor: bool | None) -> Any:
        if event.path and self._base_dir is None:
            raise MediaError(event.path, "media paths are not accepted here; send 'data' (base64) or 'pdq'")
        if self._assessor is None:
            self._assessor = self._build()
        result = self._assessor.assess(event, sender_is_minor, recipient_is_minor)
        if getattr(result, "pdq", None):
            self._hashes[event.event_id] = (result.pdq, getattr(result, "quality", None))
        return result

    def drain_hashes(self) -> dict[str, tuple[str, int | None]]:
        """The hashes computed since the last call (then forgets them)."""
        hashes, self._hashes = self._hashes, {}
        return hashes
