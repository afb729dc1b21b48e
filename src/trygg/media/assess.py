"""From a media event to signals and suggested actions: the engine's door into trygg.media.

``MediaAssessor.assess(event, sender_is_minor, recipient_is_minor)`` hashes the image or video
(from ``path`` under the configured base directory, base64 ``data``, or a precomputed ``pdq``),
matches it against every bank, scores nudity when a minor is involved, and returns
:class:`MediaAssessment` with ``Signal`` objects and the actions issue 4 prescribes:

* a bank match -> the bank's action; ``block`` banks (the default) suggest ``block`` + ``report``;
* a likely-nude image sent to a minor -> ``blur`` + ``warn_recipient``;
* a minor sending a likely-nude image -> ``nudge_recipient`` (a safety prompt before it goes).

Bad media raises :class:`~trygg.media.errors.MediaError` naming the event's path and the fault;
the engine turns it into an error reason for that event.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from trygg.decision import ACTIONS
from trygg.events import MediaEvent
from trygg.media.errors import MediaError, NotAnImageError
from trygg.media.hashing import MAX_FILE_BYTES, decode_rgb, hash_decoded, read_limited
from trygg.media.matcher import BankMatch, Matcher
from trygg.media.nudity import LIKELY_NUDE
from trygg.media.video import hash_video, match_video
from trygg.signals.base import Signal


class NudityScorer(Protocol):
    def score(self, rgb: np.ndarray) -> float: ...


@dataclass(frozen=True)
class MediaAssessment:
    """What trygg.media found in one media event."""

    event_id: str
    signals: list[Signal]
    suggested_actions: tuple[str, ...]
    matches: list[BankMatch] = field(default_factory=list)
    nudity: float | None = None
    pdq: str | None = None
    quality: int | None = None


def _ordered(actions: set[str]) -> tuple[str, ...]:
    return tuple(a for a in ACTIONS if a in actions)


def match_signal(match: BankMatch, event_id: str) -> Signal:
    """``hash_match``: score 1 for an exact hash, falling with PDQ distance (0.88 at 31)."""
    score = 1.0 if match.match in ("md5", "sha256") else round(1.0 - match.distance / 256, 4)
    value = f"bank={match.bank} entry={match.entry_id} distance={match.distance} match={match.match}"
    return Signal(name="hash_match", score=score, event_id=event_id, value=value, pattern_id=match.bank)


class MediaAssessor:
    """Holds the matcher and (optionally) the nudity classifier; one per engine."""

    def __init__(
        self,
        matcher: Matcher,
        nudity: NudityScorer | None = None,
        base_dir: str | Path = ".",
        nudity_threshold: float = LIKELY_NUDE,
        video_every_seconds: float = 1.0,
    ) -> None:
        self.matcher = matcher
        self.nudity = nudity
        self.base_dir = Path(base_dir).resolve()
        self.nudity_threshold = nudity_threshold
        self.video_every_seconds = video_every_seconds

    def resolve(self, relative: str) -> Path:
        """The event's path under the base directory; absolute paths and escapes are refused."""
        candidate = Path(relative)
        if candidate.is_absolute():
            raise MediaError(relative, "media paths must be relative to the media base directory")
        resolved = (self.base_dir / candidate).resolve()
        if not resolved.is_relative_to(self.base_dir):
            raise MediaError(relative, f"path leaves the media base directory {self.base_dir}")
        return resolved

    def _payload(self, event: MediaEvent) -> tuple[bytes | None, Path | None, str]:
        if event.path:
            path = self.resolve(event.path)
            return (None if event.media_type == "video" else read_limited(path)), path, event.path
        if event.data:
            if len(event.data) > MAX_FILE_BYTES * 4 // 3 + 4:
                raise MediaError(f"event {event.event_id} data", f"base64 payload over {MAX_FILE_BYTES} bytes")
            try:
                return base64.b64decode(event.data, validate=True), None, f"event {event.event_id} data"
            except (binascii.Error, ValueError) as exc:
                raise NotAnImageError(f"event {event.event_id} data", f"invalid base64: {exc}") from None
        return None, None, f"event {event.event_id} pdq"

    def assess(self, event: MediaEvent, sender_is_minor: bool | None, recipient_is_minor: bool | None) -> MediaAssessment:
        """Signals and suggested actions for one media event (see the module docstring)."""
        data, path, source = self._payload(event)
        nudity: float | None = None
        pdq: str | None = None
        quality: int | None = None
        if event.media_type == "video" and (path is not None or data is not None):
            matches = self._video_matches(path, data, source)
        elif data is not None:
            rgb = decode_rgb(data, source)
            hashes = hash_decoded(data, rgb)
            pdq, quality = hashes.pdq, hashes.quality
            matches = self.matcher.match(hashes)
            if self.nudity is not None and (sender_is_minor or recipient_is_minor):
                nudity = self.nudity.score(rgb)
        else:
            pdq = event.pdq
            matches = self.matcher.match_pdq([pdq], None) if pdq else []

        signals = [match_signal(m, event.event_id) for m in matches]
        actions: set[str] = set()
        for m in matches:
            actions.add(m.action)
            if m.action in ("block", "report"):
                actions.update(("block", "report"))
        if nudity is not None:
            signals.append(Signal(name="nudity", score=round(nudity, 4), event_id=event.event_id))
            if nudity >= self.nudity_threshold:
                if recipient_is_minor:
                    actions.update(("blur", "warn_recipient"))
                if sender_is_minor:
                    actions.add("nudge_recipient")
        return MediaAssessment(event.event_id, signals, _ordered(actions), matches, nudity, pdq, quality)

    def _video_matches(self, path: Path | None, data: bytes | None, source: str) -> list[BankMatch]:
        if path is not None:
            return match_video(self.matcher, hash_video(path, self.video_every_seconds))
        assert data is not None
        # OpenCV reads videos from files only: spill the decoded payload to a private temp file.
        handle, name = tempfile.mkstemp(suffix=".video")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            return match_video(self.matcher, hash_video(name, self.video_every_seconds))
        except MediaError as exc:
            raise type(exc)(source, exc.reason) from None  # name the event, not the temp file
        finally:
            os.unlink(name)
