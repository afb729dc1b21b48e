"""The data a report (NCMEC CyberTipline, DSA notice) needs, built from one case.

Report formats live elsewhere and take these plain dataclasses; this module only gathers them:
the case's offender and victims with their age pictures (passed in by the caller, who holds
them: the engine's ``AgeBook`` or the users table), the preserved messages and media hashes
from the vault (read through :func:`trygg.cases.vault.read_evidence`, so the read is checked
and audited), the reasons, and the review that confirmed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from trygg.cases import cases, vault
from trygg.cases.permissions import Reviewer


@dataclass(frozen=True)
class ReportPerson:
    user_id: str
    #: The user's age picture as a dict (``AgePicture.to_dict()``), or None when unknown.
    age_picture: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ReportMessage:
    event_id: str
    conversation_id: str | None
    sender_id: str | None
    recipient_id: str | None
    sent_at: str | None
    text: str | None


@dataclass(frozen=True)
class ReportMedia:
    event_id: str
    conversation_id: str | None
    sender_id: str | None
    recipient_id: str | None
    sent_at: str | None
    #: ``pdq``, ``md5``, ``sha256`` as far as known.
    hashes: Mapping[str, str]
    #: The hash bank it matched, if any.
    bank: str | None


@dataclass(frozen=True)
class CaseReport:
    case_id: str
    label: str
    offender: ReportPerson
    victims: tuple[ReportPerson, ...]
    conversations: tuple[str, ...]
    messages: tuple[ReportMessage, ...]
    media: tuple[ReportMedia, ...]
    reasons: tuple[dict[str, object], ...]
    max_risk: float
    minor_involved: bool
    user_reports: int
    first_seen_at: datetime
    last_seen_at: datetime
    escalated_at: datetime | None
    reported_at: datetime | None


def _picture(user_id: str, age_pictures: Mapping[str, Any]) -> ReportPerson:
    picture = age_pictures.get(user_id)
    if picture is not None and not isinstance(picture, Mapping):
        picture = picture.to_dict()  # an AgePicture
    return ReportPerson(user_id, dict(picture) if picture is not None else None)


def build_case_report(
    session: Session,
    keyring: vault.Keyring | None,
    reviewer: Reviewer,
    case_id: str,
    age_pictures: Mapping[str, Any] | None = None,
) -> CaseReport:
    """Everything a report about ``case_id`` needs. Reads the vault as ``reviewer`` (needs
    ``evidence:view``; audited with purpose ``report``). Without a keyring only a case with
    nothing preserved can be reported."""
    case = cases.get_case(session, case_id)
    age_pictures = age_pictures or {}
    items = vault.read_evidence(session, keyring, reviewer, case_id, purpose="report")
    messages = tuple(
        ReportMessage(i.event_id, i.conversation_id, i.sender_id, i.recipient_id, i.sent_at, i.text) for i in items if i.kind == "message"
    )
    media = tuple(
        ReportMedia(i.event_id, i.conversation_id, i.sender_id, i.recipient_id, i.sent_at, dict(i.hashes), i.bank)
        for i in items
        if i.kind == "media"
    )
    return CaseReport(
        case_id=case.case_id,
        label=case.label_guess,
        offender=_picture(case.offender_id, age_pictures),
        victims=tuple(_picture(v, age_pictures) for v in case.victims),
        conversations=case.conversations,
        messages=messages,
        media=media,
        reasons=case.reasons,
        max_risk=case.max_risk,
        minor_involved=case.minor_involved,
        user_reports=case.user_reports,
        first_seen_at=case.created_at,
        last_seen_at=case.last_event_at,
        escalated_at=case.escalated_at,
        reported_at=case.reported_at,
    )
