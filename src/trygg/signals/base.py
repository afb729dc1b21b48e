"""The Signal: what a detector found, with the evidence a moderator can check."""

from __future__ import annotations

from dataclasses import dataclass

from trygg.taxonomy import SIGNAL_FAMILIES

__all__ = ["SIGNAL_FAMILIES", "Signal"]


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
