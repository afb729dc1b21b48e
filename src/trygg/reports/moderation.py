"""Moderation records: the one input both DSA outputs (transparency figures, statements of
reasons) are computed from, with the DSA vocabulary they map onto.

A record is one restriction the platform applied, with what the DSA asks about it: when the
harm happened and when the action came, how it was detected, whether a machine decided, and
what happened afterwards (complaint, reversal, a reviewer confirming or overturning an automated
decision). Records carry ids and times only, never message text.

The names on the right of each mapping are those of the DSA Transparency Database API
(``category_specification`` keywords, ``decision_visibility`` / ``decision_account`` /
``decision_provision`` values); the transparency report templates of Implementing Regulation
(EU) 2024/2835 use the same category and type-of-restriction lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

CATEGORY = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"

#: Record subcategory -> the category_specification keyword of "Protection of minors".
SUBCATEGORIES = {
    "grooming": "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
    "csam": "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "age_restriction": "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
}

#: Record action -> (decision field, value) of the type of restriction applied.
RESTRICTIONS = {
    "content_removed": ("decision_visibility", "DECISION_VISIBILITY_CONTENT_REMOVED"),
    "content_disabled": ("decision_visibility", "DECISION_VISIBILITY_CONTENT_DISABLED"),
    "content_demoted": ("decision_visibility", "DECISION_VISIBILITY_CONTENT_DEMOTED"),
    "content_age_restricted": ("decision_visibility", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"),
    "interaction_restricted": ("decision_visibility", "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"),
    "content_labelled": ("decision_visibility", "DECISION_VISIBILITY_CONTENT_LABELLED"),
    "service_partially_suspended": ("decision_provision", "DECISION_PROVISION_PARTIAL_SUSPENSION"),
    "account_suspended": ("decision_account", "DECISION_ACCOUNT_SUSPENDED"),
    "account_terminated": ("decision_account", "DECISION_ACCOUNT_TERMINATED"),
}

#: trygg's decision actions that restrict someone, as the restriction the DSA counts. Warnings and
#: safety tips to the child restrict nobody, and a hold for review is not yet a decision.
TRYGG_ACTIONS = {
    "blur": "content_labelled",
    "restrict_sender": "interaction_restricted",
    "block": "account_suspended",
}

#: How the content came to the platform's attention. Only a user report is a notice (Art. 16
#: DSA); everything else is own-initiative moderation.
DETECTION_METHODS = ("automated", "hash_match", "user_report", "manual")
AUTOMATED_DETECTION = frozenset({"automated", "hash_match"})
REVIEWER_OUTCOMES = ("confirmed", "overturned")


@dataclass(frozen=True)
class ModerationRecord:
    """One restriction decision. ``automated`` is True when no person took the decision;
    ``reviewer_outcome`` is a person's later verdict on it (the basis of accuracy figures)."""

    decision_id: str
    event_time: datetime
    action_time: datetime
    action: str
    category: str
    detection: str
    automated: bool
    complaint: bool = False
    reversed: bool = False
    reviewer_outcome: str | None = None
    territorial_scope: tuple[str, ...] = ()
    content_type: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if not self.decision_id:
            problems.append("decision_id: empty")
        for name in ("event_time", "action_time"):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                problems.append(f"{name}: needs a time zone")
        if not problems and self.action_time < self.event_time:
            problems.append("action_time: before event_time")
        if self.action not in RESTRICTIONS:
            problems.append(f"action: {self.action!r} is not one of {', '.join(RESTRICTIONS)}")
        if self.category not in SUBCATEGORIES:
            problems.append(f"category: {self.category!r} is not one of {', '.join(SUBCATEGORIES)}")
        if self.detection not in DETECTION_METHODS:
            problems.append(f"detection: {self.detection!r} is not one of {', '.join(DETECTION_METHODS)}")
        if self.reviewer_outcome is not None and self.reviewer_outcome not in REVIEWER_OUTCOMES:
            problems.append(f"reviewer_outcome: {self.reviewer_outcome!r} is not one of {', '.join(REVIEWER_OUTCOMES)}")
        if self.reversed and self.reviewer_outcome == "confirmed":
            problems.append("reversed: a decision a reviewer confirmed cannot also be reversed")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def own_initiative(self) -> bool:
        return self.detection != "user_report"

    @property
    def automated_detection(self) -> bool:
        return self.detection in AUTOMATED_DETECTION

    @property
    def seconds_to_action(self) -> float:
        return (self.action_time - self.event_time).total_seconds()


def _time(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected an RFC 3339 string")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not an RFC 3339 time") from None


def _flag(data: Mapping[str, Any], name: str, default: bool | None = None) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(f"{name}: expected true or false")
    return value


def _codes(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}: expected a list of strings")
    return tuple(value)


def parse_record(data: Mapping[str, Any]) -> ModerationRecord:
    """A record from its JSON form; ValueError names the field that is wrong."""
    if not isinstance(data, Mapping):
        raise ValueError("expected a JSON object")
    missing = [k for k in ("decision_id", "event_time", "action_time", "action", "category", "detection", "automated") if k not in data]
    if missing:
        raise ValueError(f"missing field(s): {', '.join(missing)}")
    outcome = data.get("reviewer_outcome")
    if outcome is not None and not isinstance(outcome, str):
        raise ValueError("reviewer_outcome: expected a string or null")
    return ModerationRecord(
        decision_id=str(data["decision_id"]),
        event_time=_time(data["event_time"], "event_time"),
        action_time=_time(data["action_time"], "action_time"),
        action=str(data["action"]),
        category=str(data["category"]),
        detection=str(data["detection"]),
        automated=_flag(data, "automated"),
        complaint=_flag(data, "complaint", False),
        reversed=_flag(data, "reversed", False),
        reviewer_outcome=outcome,
        territorial_scope=_codes(data, "territorial_scope"),
        content_type=_codes(data, "content_type"),
    )


@dataclass(frozen=True)
class RecordError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def read_records(path: Path) -> Iterator[ModerationRecord | RecordError]:
    """Records from a JSON Lines file; a bad line yields a RecordError and the rest go on."""
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield parse_record(json.loads(line))
            except json.JSONDecodeError as exc:
                yield RecordError(number, f"not JSON: {exc.msg}")
            except ValueError as exc:
                yield RecordError(number, str(exc))
