"""The Signal: what a detector found, with the evidence a moderator can check."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from trygg.taxonomy import ALL_FAMILIES, CONTEXT_FAMILIES, SIGNAL_FAMILIES

__all__ = ["ALL_FAMILIES", "CONTEXT_FAMILIES", "SIGNAL_FAMILIES", "DetectionContext", "Detector", "Signal"]

if TYPE_CHECKING:
    from trygg.text.normalize import NormalizedText


@dataclass(frozen=True, slots=True)
class Signal:
    """One finding in one event.

    ``span`` is a half-open character range ``[start, end)`` into the *original* text the user
    wrote (not the normalised text), so evidence can be highlighted exactly as sent.
    ``value`` carries an extracted fact where the family has one (e.g. the stated age).
    ``action`` is an action the evidence itself names, for the policy to weigh (a hash bank's
    own action rides on its ``hash_match``; see the policy's ``signal_action`` condition).
    """

    name: str
    score: float
    event_id: str
    span: tuple[int, int] | None = None
    language: str | None = None
    value: int | str | None = None
    pattern_id: str | None = None
    action: str | None = None

    def as_reason(self) -> dict[str, object]:
        reason: dict[str, object] = {"signal": self.name, "score": round(self.score, 4), "event_id": self.event_id}
        if self.span is not None:
            reason["span"] = list(self.span)
        if self.language is not None:
            reason["language"] = self.language
        if self.value is not None:
            reason["value"] = self.value
        return reason


@dataclass(slots=True)
class DetectionContext:
    """What a detector may read besides its event (never anything it could change).

    Messages: the text as detectors read it (normalised, with offsets back to the original) and
    the conversation's language. Media: whether each party is likely a minor, from the age
    pictures (nudity matters when a minor is involved). What a kind of event does not need is None.
    """

    normalized: NormalizedText | None = None
    language: str | None = None
    sender_minor: bool | None = None
    recipient_minor: bool | None = None


class Detector(Protocol):
    """Finds signals in one kind of event; pure (no I/O: media arrive prepared by the ingest)."""

    #: The event types this detector reads (``"message"``, ``"media"``, ...).
    event_types: frozenset[str]

    def detect(self, event: Any, context: DetectionContext) -> list[Signal]: ...


def by_event_type(detectors: Sequence[Detector] | Mapping[str, Sequence[Detector]]) -> dict[str, list[Detector]]:
    """A list of detectors (or a mapping already by type) as the engine keeps them."""
    if isinstance(detectors, Mapping):
        return {event_type: list(found) for event_type, found in detectors.items()}
    by_type: dict[str, list[Detector]] = {}
    for detector in detectors:
        for event_type in detector.event_types:
            by_type.setdefault(event_type, []).append(detector)
    return by_type
