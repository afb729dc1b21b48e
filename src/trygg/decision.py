"""Decision: the answer trygg gives the platform for one event."""

from __future__ import annotations

from dataclasses import dataclass

#: Actions from mild to severe (DESIGN.md). Order matters: index = severity.
ACTIONS: tuple[str, ...] = (
    "allow",
    "nudge_recipient",
    "warn_recipient",
    "blur",
    "restrict_sender",
    "hold_for_review",
    "block",
    "report",
)
_KNOWN_ACTIONS = frozenset(ACTIONS)
_ACTING = _KNOWN_ACTIONS - {"allow"}
#: Actions counted as "severe" in false-alarm figures.
SEVERE_ACTIONS: frozenset[str] = frozenset({"warn_recipient", "restrict_sender", "hold_for_review", "block", "report"})


def severity(action: str) -> int:
    return ACTIONS.index(action)


@dataclass(frozen=True)
class Decision:
    """Actions for one event and the reasons behind them; nothing is decided without a reason."""

    event_id: str
    actions: tuple[str, ...]
    risk: float
    reasons: tuple[dict[str, object], ...] = ()
    policy: str = ""
    conversation_id: str | None = None
    case_id: str | None = None

    def __post_init__(self) -> None:
        if not _KNOWN_ACTIONS.issuperset(self.actions):
            raise ValueError(f"unknown actions: {[a for a in self.actions if a not in ACTIONS]}")
        if not self.reasons and not _ACTING.isdisjoint(self.actions):
            raise ValueError("a decision other than 'allow' must name its reasons")

    @property
    def severe(self) -> bool:
        return not SEVERE_ACTIONS.isdisjoint(self.actions)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "event_id": self.event_id,
            "conversation_id": self.conversation_id,
            "actions": list(self.actions),
            "risk": round(self.risk, 4),
            "reasons": list(self.reasons),
            "policy": self.policy,
        }
        if self.case_id:
            out["case_id"] = self.case_id
        return out
