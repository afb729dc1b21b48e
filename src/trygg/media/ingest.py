"""The media ingest: every bit of media I/O, done at the edge before the engine sees the event.

``MediaIngest(base_dir, nudity).prepare(event)`` reads the file under the media base directory
(or decodes the base64 ``data``), hashes it (PDQ with quality and the eight dihedral hashes,
MD5, SHA-256; for a video the PDQ of its sampled frames), scores nudity when it has a classifier,
and returns the event as :class:`~trygg.media.facts.PreparedMedia`: the same event with the
bytes dropped and the :class:`~trygg.media.facts.MediaFacts` attached. The engine's
:class:`~trygg.media.detect.MediaDetector` then only matches those hashes in memory.

Nudity is scored for every decoded image when a classifier is given, because ages live in the
engine and the ingest cannot know whether a minor is involved; the detector emits the score only
when one is, so decisions are what they were when the engine scored on demand. The cost is one
classifier run per image (about 40 ms on one core); build the ingest without a classifier to
turn nudity protection off.

Bad media raises :class:`~trygg.media.errors.MediaError` naming the event's path or field. As a
hook for the adapters (``ingest(event)``), the error is kept on the prepared event instead, so
the engine reports it for that event exactly as before (an ``allow`` with a ``media_error``
reason and a warning) and the events around it are not lost.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from pathlib import Path
from typing import Protocol

import numpy as np

from trygg.events import Event, MediaEvent
from trygg.media.errors import MediaError, NotAnImageError
from trygg.media.facts import MediaFacts, PreparedMedia, VideoHashes
from trygg.media.hashing import MAX_FILE_BYTES, decode_rgb, hash_decoded, read_limited
from trygg.media.video import hash_video


class NudityScorer(Protocol):
    def score(self, rgb: np.ndarray) -> float: ...


def with_error(event: MediaEvent, error: MediaError) -> PreparedMedia:
    """``event`` carrying the reason it could not be prepared, for the engine to report."""
    return PreparedMedia.of(event, MediaFacts(error=error))


class MediaIngest:
    """Reads, decodes, hashes and scores media events; one per process (the classifier is loaded once)."""

    def __init__(self, base_dir: str | Path | None, nudity: NudityScorer | None = None, video_every_seconds: float = 1.0) -> None:
        """``base_dir``: where event paths are resolved; ``None`` accepts only ``data`` and
        ``pdq`` (an HTTP client must not make the server read its own files)."""
        self.base_dir = Path(base_dir).resolve() if base_dir is not None else None
        self.nudity = nudity
        self.video_every_seconds = video_every_seconds

    def __call__(self, event: Event) -> Event:
        """The adapters' hook: media events prepared (errors kept on them), others unchanged."""
        if not isinstance(event, MediaEvent) or isinstance(event, PreparedMedia):
            return event
        try:
            return self.prepare(event)
        except MediaError as exc:
            return with_error(event, exc)

    def prepare(self, event: MediaEvent) -> PreparedMedia:
        """The event with its facts; raises :class:`MediaError` on unreadable media."""
        return PreparedMedia.of(event, self.facts(event))

    def resolve(self, relative: str) -> Path:
        """The event's path under the base directory; absolute paths and escapes are refused."""
        if self.base_dir is None:
            raise MediaError(relative, "media paths are not accepted here; send 'data' (base64) or 'pdq'")
        candidate = Path(relative)
        if candidate.is_absolute():
            raise MediaError(relative, "media paths must be relative to the media base directory")
        resolved = (self.base_dir / candidate).resolve()
        if not resolved.is_relative_to(self.base_dir):
            raise MediaError(relative, f"path leaves the media base directory {self.base_dir}")
        return resolved

    def facts(self, event: MediaEvent) -> MediaFacts:
        """Hashes (and a nudity score) of the event's media: a path wins over data, data over pdq."""
        if event.path:
            path = self.resolve(event.path)
            if event.media_type == "video":
                return MediaFacts(video=hash_video(path, self.video_every_seconds))
            return self._image(read_limited(path), event.path)
        if event.data:
            source = f"event {event.event_id} data"
            data = _decode_base64(event.data, source)
            if event.media_type == "video":
                return MediaFacts(video=self._video_bytes(data, source))
            return self._image(data, source)
        return MediaFacts(pdq=event.pdq)

    def _image(self, data: bytes, source: str) -> MediaFacts:
        rgb = decode_rgb(data, source)
        nudity = self.nudity.score(rgb) if self.nudity is not None else None
        return MediaFacts(image=hash_decoded(data, rgb), nudity=nudity)

    def _video_bytes(self, data: bytes, source: str) -> VideoHashes:
        # OpenCV reads videos from files only: spill the decoded payload to a private temp file.
        handle, name = tempfile.mkstemp(suffix=".video")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            return hash_video(name, self.video_every_seconds)
        except MediaError as exc:
            raise type(exc)(source, exc.reason) from None  # name the event, not the temp file
        finally:
            os.unlink(name)


def _decode_base64(text: str, source: str) -> bytes:
    if len(text) > MAX_FILE_BYTES * 4 // 3 + 4:
        raise MediaError(source, f"base64 payload over {MAX_FILE_BYTES} bytes")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NotAnImageError(source, f"invalid base64: {exc}") from None
