"""The engine's media detector: prepared media facts in, signals out, with no I/O.

``MediaDetector(matcher).detect(event, sender_is_minor, recipient_is_minor)`` matches the
hashes the ingest (:mod:`trygg.media.ingest`) attached to the event against the banks held in
memory by a :class:`~trygg.media.matcher.Matcher` (no database call per hit) and returns
``Signal`` objects, like every other detector. It chooses no action: the policy decides them
all. What a match carries for the policy to weigh:

* ``hash_match``: score 1 for an exact hash, ``1 - distance/256`` for PDQ (0.88 at 31);
  ``value`` = ``"bank=ncmec entry=12 distance=4 match=pdq"``, ``pattern_id`` = the bank and
  ``action`` = the bank's own action (its owner's choice, e.g. ``hold_for_review``), which the
  policy's ``signal_action`` rules apply;
* ``nudity``: the classifier's score, only when the sender or the recipient is likely a minor
  (nothing else could follow from it).

A precomputed ``pdq`` needs no ingest and is matched as it comes (one orientation, no nudity
score). A ``path`` or ``data`` event that did not go through the ingest, or whose media the
ingest could not read, raises :class:`~trygg.media.errors.MediaError`, which the engine reports
for that event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from trygg.events import MediaEvent
from trygg.media.errors import MediaError
from trygg.media.facts import MediaFacts, PreparedMedia
from trygg.signals.base import Signal

if TYPE_CHECKING:
    from trygg.media.matcher import BankMatch, Matcher


def match_signal(match: BankMatch, event_id: str) -> Signal:
    """``hash_match``: score 1 for an exact hash, falling with PDQ distance (0.88 at 31)."""
    score = 1.0 if match.match in ("md5", "sha256") else round(1.0 - match.distance / 256, 4)
    value = f"bank={match.bank} entry={match.entry_id} distance={match.distance} match={match.match}"
    return Signal(name="hash_match", score=score, event_id=event_id, value=value, pattern_id=match.bank, action=match.action)


def facts_of(event: MediaEvent) -> MediaFacts:
    """The facts the ingest attached, or those a bare ``pdq`` event carries by itself."""
    if isinstance(event, PreparedMedia):
        return event.facts
    if event.path or event.data:
        source = event.path or f"event {event.event_id} data"
        raise MediaError(source, "media not prepared: the media ingest (trygg.media.ingest) must run before the engine")
    return MediaFacts(pdq=event.pdq)


class MediaDetector:
    """Signals of one prepared media event, from the banks held in memory."""

    def __init__(self, matcher: Matcher | None = None, load: Callable[[], Matcher] | None = None) -> None:
        """Give the ``matcher``, or ``load``: called once, on the first media event (loading
        banks takes seconds, and most scans carry no media)."""
        if (matcher is None) == (load is None):
            raise ValueError("give exactly one of matcher or load")
        self._matcher = matcher
        self._load = load

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            assert self._load is not None
            self._matcher = self._load()
        return self._matcher

    def reload(self) -> None:
        """Read the banks again (after changes made by another process)."""
        self.matcher.reload()

    def detect(self, event: MediaEvent, sender_is_minor: bool | None, recipient_is_minor: bool | None) -> list[Signal]:
        facts = facts_of(event)
        if facts.error is not None:
            raise facts.error
        if facts.video is not None:
            matches = self.matcher.match_video(facts.video)
        elif facts.image is not None:
            matches = self.matcher.match(facts.image)
        else:
            matches = self.matcher.match_pdq([facts.pdq], None) if facts.pdq else []
        signals = [match_signal(m, event.event_id) for m in matches]
        if facts.nudity is not None and (sender_is_minor or recipient_is_minor):
            signals.append(Signal(name="nudity", score=round(facts.nudity, 4), event_id=event.event_id))
        return signals
