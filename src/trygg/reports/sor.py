"""Statements of reasons (Art. 17 DSA) in the fields of the DSA Transparency Database API.

Every restriction a platform applies needs a statement of reasons to the person affected, and
online platforms submit them to the Commission's Transparency Database (Art. 24(5)). One
:class:`~trygg.reports.moderation.ModerationRecord` gives one statement, as a dict with the
database's field names, written as JSON Lines (the database's bulk endpoint takes up to 100 of
them per call).

What the record does not know, the platform states once in :class:`SorSettings`: the terms of
service clause relied on, the legal ground for illegal content, the territorial scope. The
database must not receive personal data (Art. 24(5)), so ``decision_facts`` is built from the
record's categories and times only, never from message text or user ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timezone
from typing import Any, TextIO

from trygg.reports.moderation import CATEGORY, RESTRICTIONS, SUBCATEGORIES, ModerationRecord

#: The 27 EU member states: the default territorial scope of a platform-wide restriction.
EU_MEMBER_STATES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT",
    "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip

_DESCRIPTION = {
    "grooming": "grooming or sexual enticement of a minor",
    "csam": "child sexual abuse material",
    "age_restriction": "content or contact not allowed for minors on this service",
}
_DETECTION = {
    "automated": "detected by the platform's automated classifiers",
    "hash_match": "detected by matching against a list of hashes of known material",
    "user_report": "reported by a user",
    "manual": "found by the platform's moderators",
}
_DEFAULT_CONTENT_TYPE = {"grooming": ("CONTENT_TYPE_TEXT",), "csam": ("CONTENT_TYPE_IMAGE",), "age_restriction": ("CONTENT_TYPE_TEXT",)}
_PUID = re.compile(r"[A-Za-z0-9_-]{1,500}")


@dataclass(frozen=True)
class SorSettings:
    """What the platform states once for all its statements of reasons.

    ``illegal_grounds`` maps a record subcategory to (legal ground, explanation); a subcategory
    named there is reported as illegal content, the others as content incompatible with the
    terms and conditions (``terms_ground``).
    """

    terms_ground: str = "Terms of service, section on the safety of minors"
    terms_explanation: str = "The content or conduct breaks the service's rules that protect minors."
    illegal_grounds: Mapping[str, tuple[str, str]] = field(
        default_factory=lambda: {
            "csam": (
                "Directive 2011/93/EU, Article 5 (offences concerning child pornography), as transposed in national law",
                "The content depicts the sexual abuse of a child.",
            ),
            "grooming": (
                "Directive 2011/93/EU, Article 6 (solicitation of children for sexual purposes), as transposed in national law",
                "The messages solicit a minor for sexual purposes.",
            ),
        }
    )
    territorial_scope: tuple[str, ...] = EU_MEMBER_STATES
    puid_prefix: str = ""


def _grounds(record: ModerationRecord, settings: SorSettings) -> dict[str, Any]:
    legal = settings.illegal_grounds.get(record.category)
    if legal is not None:
        ground, explanation = legal
        return {
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "illegal_content_legal_ground": ground,
            "illegal_content_explanation": explanation,
        }
    return {
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": settings.terms_ground,
        "incompatible_content_explanation": settings.terms_explanation,
        "incompatible_content_illegal": "No",
    }


def automated_decision(record: ModerationRecord) -> str:
    """FULLY when no person decided; PARTIALLY when a person decided on a machine's detection."""
    if record.automated:
        return "AUTOMATED_DECISION_FULLY"
    if record.automated_detection:
        return "AUTOMATED_DECISION_PARTIALLY"
    return "AUTOMATED_DECISION_NOT_AUTOMATED"


def decision_facts(record: ModerationRecord) -> str:
    """Facts and circumstances, from categories and times only (no personal data)."""
    who = "automatically, without human review" if record.automated else "by a moderator"
    return (
        f"The content was {_DETECTION[record.detection]} as {_DESCRIPTION[record.category]}. "
        f"The restriction ({record.action.replace('_', ' ')}) was decided {who}, "
        f"{_duration(record.seconds_to_action)} after the content was sent."
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 86400:.0f} days"


def statement_of_reasons(record: ModerationRecord, settings: SorSettings | None = None) -> dict[str, Any]:
    """One statement of reasons with the Transparency Database's field names."""
    settings = settings or SorSettings()
    puid = f"{settings.puid_prefix}{record.decision_id}"
    if not _PUID.fullmatch(puid):
        raise ValueError(f"puid {puid!r}: the database takes 1-500 characters of A-Z, a-z, 0-9, '-' and '_' only")
    decision_field, decision_value = RESTRICTIONS[record.action]
    statement: dict[str, Any] = {
        decision_field: [decision_value] if decision_field == "decision_visibility" else decision_value,
        **_grounds(record, settings),
        "content_type": list(record.content_type or _DEFAULT_CONTENT_TYPE[record.category]),
        "category": CATEGORY,
        "category_specification": [SUBCATEGORIES[record.category]],
        "territorial_scope": sorted(record.territorial_scope or settings.territorial_scope),
        "content_date": record.event_time.astimezone(timezone.utc).date().isoformat(),
        "application_date": record.action_time.astimezone(timezone.utc).date().isoformat(),
        "decision_facts": decision_facts(record),
        "source_type": "SOURCE_VOLUNTARY" if record.own_initiative else "SOURCE_ARTICLE_16",
        "automated_detection": "Yes" if record.automated_detection else "No",
        "automated_decision": automated_decision(record),
        "puid": puid,
    }
    return statement


def write_statements(records: Iterable[ModerationRecord], out: TextIO, settings: SorSettings | None = None) -> list[str]:
    """Write one JSON line per record; returns the errors of records that could not be stated."""
    errors: list[str] = []
    for record in records:
        try:
            line = statement_of_reasons(record, settings)
        except ValueError as exc:
            errors.append(f"{record.decision_id}: {exc}")
            continue
        out.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    return errors
