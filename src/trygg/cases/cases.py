"""Cases: decisions that need a person, grouped per offender, and the review queue.

A decision whose actions include one of the trigger actions (``hold_for_review`` and ``report``
by default, :class:`CasePolicy`) opens a case for its offender, or updates the offender's case
that is still being worked (``open`` or ``escalated``). One adult grooming five children is one
case with five victims: the case links every victim, conversation and event it saw, and keeps
the reasons (signal, score, event id, span) without any message text.

Statuses and the moves between them (:data:`TRANSITIONS`)::

    open ──▶ escalated ──▶ reported ──▶ closed
      │          │
      └──────────┴──▶ dismissed ──▶ closed

A decision for an offender whose last case was dismissed, reported or closed opens a new case:
a report, once filed, stays as it was filed, and what happens after it is a new incident.

The functions here work inside a caller's SQLAlchemy session and check nothing about who calls
them; :mod:`trygg.cases.service` adds permissions, notes and transactions.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from trygg.cases import audit, clock
from trygg.cases.tables import CaseLinkRow, CaseMediaRow, CaseRow
from trygg.decision import Decision

OPEN, ESCALATED, DISMISSED, REPORTED, CLOSED = "open", "escalated", "dismissed", "reported", "closed"
STATUSES: tuple[str, ...] = (OPEN, ESCALATED, DISMISSED, REPORTED, CLOSED)
#: Statuses a new decision for the same offender adds to (the case is still being worked).
ACTIVE_STATUSES: tuple[str, ...] = (OPEN, ESCALATED)
TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({ESCALATED, DISMISSED}),
    ESCALATED: frozenset({REPORTED, DISMISSED}),
    REPORTED: frozenset({CLOSED}),
    DISMISSED: frozenset({CLOSED}),
    CLOSED: frozenset(),
}
LABELS: frozenset[str] = frozenset({"grooming", "solicitation", "sextortion", "benign"})

#: Reasons kept per case (the earliest distinct ones: first evidence is what a report needs).
MAX_REASONS = 500
#: Actor name of the engine in the audit log.
SYSTEM_ACTOR = "trygg"

# ---------------------------------------------------------------- priority (docs/cases.md)
#: priority(now) = RISK_WEIGHT * max_risk + MINOR_WEIGHT * minor_involved
#:               + REPORT_WEIGHT * min(user_reports, MAX_REPORTS_COUNTED)
#:               - STALENESS_PER_DAY * days since the case last changed
RISK_WEIGHT = 100.0
MINOR_WEIGHT = 40.0
REPORT_WEIGHT = 15.0
MAX_REPORTS_COUNTED = 3
STALENESS_PER_DAY = 5.0
_EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)


class CaseError(ValueError):
    """A case operation that cannot be done (unknown case, move not allowed, bad input)."""


@dataclass(frozen=True)
class CasePolicy:
    """Which decisions open or update a case."""

    trigger_actions: frozenset[str] = frozenset({"hold_for_review", "report"})

    def triggers(self, decision: Decision) -> bool:
        return not self.trigger_actions.isdisjoint(decision.actions)


@dataclass(frozen=True)
class CaseInput:
    """A decision and the parties it is about (the decision itself does not name them).

    ``victim_ids`` are the users harmed or targeted (the minor of the assessment, a media
    recipient); ``media_hashes`` maps a media event id to its content hash (PDQ hex or SHA-256)
    so that a dismissed hash match can be recorded against the hash the bank holds.
    """

    decision: Decision
    offender_id: str
    victim_ids: tuple[str, ...] = ()
    label_guess: str = "benign"
    minor_involved: bool = False
    media_hashes: Mapping[str, str] = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True)
class Case:
    """A case as read back, with its links (what the console shows)."""

    case_id: str
    offender_id: str
    status: str
    label_guess: str
    max_risk: float
    minor_involved: bool
    user_reports: int
    decisions: int
    victims: tuple[str, ...]
    conversations: tuple[str, ...]
    event_ids: tuple[str, ...]
    reasons: tuple[dict[str, object], ...]
    assignee: str | None
    outcome: str | None
    created_at: datetime
    updated_at: datetime
    last_event_at: datetime
    escalated_at: datetime | None
    reported_at: datetime | None
    priority_key: float

    def priority(self, now: datetime | None = None) -> float:
        """The documented priority at ``now`` (the queue's order, as a readable number)."""
        return priority_at(self.max_risk, self.minor_involved, self.user_reports, self.updated_at, now or clock.now())

    def as_dict(self) -> dict[str, object]:
        return {
            "case_id": self.case_id,
            "offender_id": self.offender_id,
            "status": self.status,
            "label_guess": self.label_guess,
            "max_risk": round(self.max_risk, 4),
            "minor_involved": self.minor_involved,
            "user_reports": self.user_reports,
            "decisions": self.decisions,
            "victims": list(self.victims),
            "conversations": list(self.conversations),
            "event_ids": list(self.event_ids),
            "reasons": list(self.reasons),
            "assignee": self.assignee,
            "outcome": self.outcome,
            "created_at": clock.iso(self.created_at),
            "updated_at": clock.iso(self.updated_at),
            "last_event_at": clock.iso(self.last_event_at),
            "escalated_at": clock.iso(self.escalated_at) if self.escalated_at else None,
            "reported_at": clock.iso(self.reported_at) if self.reported_at else None,
            "priority": round(self.priority(), 2),
        }


def base_priority(max_risk: float, minor_involved: bool, user_reports: int) -> float:
    return RISK_WEIGHT * max_risk + MINOR_WEIGHT * float(minor_involved) + REPORT_WEIGHT * min(user_reports, MAX_REPORTS_COUNTED)


def priority_key(max_risk: float, minor_involved: bool, user_reports: int, updated_at: datetime) -> float:
    """The stored sort key: base priority + STALENESS_PER_DAY * days from a fixed epoch to the
    last change. ``priority(now) = key - STALENESS_PER_DAY * days(epoch → now)``, and the
    subtracted term is the same for every case, so ordering by the key orders by priority at
    any ``now`` without recomputing anything."""
    days = (clock.utc(updated_at) - _EPOCH).total_seconds() / 86400.0
    return base_priority(max_risk, minor_involved, user_reports) + STALENESS_PER_DAY * days


def priority_at(max_risk: float, minor_involved: bool, user_reports: int, updated_at: datetime, now: datetime) -> float:
    age_days = max(0.0, (clock.utc(now) - clock.utc(updated_at)).total_seconds() / 86400.0)
    return base_priority(max_risk, minor_involved, user_reports) - STALENESS_PER_DAY * age_days


def new_case_id() -> str:
    return f"k-{secrets.token_hex(8)}"


def _reason_key(reason: Mapping[str, object]) -> tuple[object, ...]:
    span = reason.get("span")
    return (reason.get("signal"), reason.get("event_id"), tuple(span) if isinstance(span, (list, tuple)) else span, reason.get("value"))


def _hash_matches(reasons: Iterable[Mapping[str, object]]) -> list[tuple[str, str, str | None]]:
    """``(event_id, bank, entry_id)`` of every ``hash_match`` reason (value ``bank=.. entry=..``)."""
    found = []
    for reason in reasons:
        if reason.get("signal") != "hash_match":
            continue
        fields = dict(part.split("=", 1) for part in str(reason.get("value") or "").split() if "=" in part)
        if fields.get("bank"):
            found.append((str(reason.get("event_id")), fields["bank"], fields.get("entry")))
    return found


def _lock_offender(session: Session, offender_id: str) -> None:
    """Serialise case creation per offender on PostgreSQL (two workers seeing the offender's
    first two decisions at once must not open two cases). SQLite has one writer anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"trygg-case:{offender_id}"})


# Statements of the intake path, built once (building them cost more than running them).
_CASE_OF_EVENT = (
    select(CaseLinkRow.case_id)
    .join(CaseRow, CaseRow.case_id == CaseLinkRow.case_id)
    .where(CaseLinkRow.kind == "event", CaseLinkRow.ref == bindparam("event_id"), CaseRow.offender_id == bindparam("offender_id"))
    .limit(1)
)
_ACTIVE_CASE = (
    select(CaseRow)
    .where(CaseRow.offender_id == bindparam("offender_id"), CaseRow.status.in_(ACTIVE_STATUSES))
    .order_by(CaseRow.created_at.desc())
    .limit(1)
    .with_for_update()
)
_LINKS_AMONG = select(CaseLinkRow.kind, CaseLinkRow.ref).where(
    CaseLinkRow.case_id == bindparam("case_id"), CaseLinkRow.ref.in_(bindparam("refs", expanding=True))
)
_MEDIA_OF_CASE = select(CaseMediaRow.event_id, CaseMediaRow.bank).where(CaseMediaRow.case_id == bindparam("case_id"))


def record_decision(session: Session, item: CaseInput, policy: CasePolicy | None = None) -> str | None:
    """Open or update the offender's case for a triggering decision; the case id, or None when
    the decision does not trigger a case. Idempotent per event id: recording the same decision
    twice changes nothing the second time, even after the case was worked."""
    policy = policy or CasePolicy()
    decision = item.decision
    if not policy.triggers(decision):
        return None
    if not item.offender_id:
        raise CaseError(f"decision {decision.event_id}: a case needs an offender id")
    if item.label_guess not in LABELS:
        raise CaseError(f"decision {decision.event_id}: unknown label {item.label_guess!r}; expected one of {sorted(LABELS)}")
    at = clock.utc(item.at or clock.now())
    memo = _memo(session)
    if item.offender_id not in memo.locked:
        _lock_offender(session, item.offender_id)
        memo.locked.add(item.offender_id)
    event_key = (item.offender_id, decision.event_id)
    # Reads skip autoflush: what this transaction added but has not flushed is in the memo, and
    # flushing once at commit lets SQLAlchemy insert a batch's rows together.
    with session.no_autoflush:
        already = memo.events.get(event_key) or session.execute(
            _CASE_OF_EVENT, {"event_id": decision.event_id, "offender_id": item.offender_id}
        ).scalar_one_or_none()
        if already is not None:  # a re-sent decision (a scan redoing a batch) changes nothing
            memo.events[event_key] = already
            return already
        row = memo.active.get(item.offender_id)
        if row is None or row.status not in ACTIVE_STATUSES:
            row = session.execute(_ACTIVE_CASE, {"offender_id": item.offender_id}).scalar_one_or_none()
    opened = row is None
    if row is None:
        row = CaseRow(
            case_id=new_case_id(),
            offender_id=item.offender_id,
            status=OPEN,
            label_guess="benign",
            max_risk=0.0,
            minor_involved=False,
            user_reports=0,
            decisions=0,
            reasons=[],
            created_at=at,
            updated_at=at,
            last_event_at=at,
            priority_key=0.0,
        )
        session.add(row)
        session.flush()  # the unit of work orders inserts by relationships, not foreign keys
        memo.links[row.case_id] = set()
        memo.media[row.case_id] = set()
    memo.active[item.offender_id] = row
    memo.events[event_key] = row.case_id
    with session.no_autoflush:
        _add_links(session, memo, row.case_id, item, at)
    reasons = list(row.reasons)
    known = {_reason_key(r) for r in reasons}
    for reason in decision.reasons:
        key = _reason_key(reason)
        if key not in known and len(reasons) < MAX_REASONS:
            known.add(key)
            reasons.append(dict(reason))
    matches = _hash_matches(decision.reasons)
    if matches:
        seen_media = memo.media.get(row.case_id)
        if seen_media is None:
            with session.no_autoflush:
                seen_media = memo.media[row.case_id] = {(e, b) for e, b in session.execute(_MEDIA_OF_CASE, {"case_id": row.case_id})}
        for event_id, bank, entry_id in matches:
            if (event_id, bank) not in seen_media:
                seen_media.add((event_id, bank))
                session.add(
                    CaseMediaRow(case_id=row.case_id, event_id=event_id, bank=bank, content_hash=item.media_hashes.get(event_id), entry_id=entry_id)
                )
    row.reasons = reasons
    row.decisions += 1
    row.max_risk = max(row.max_risk, float(decision.risk))
    row.minor_involved = row.minor_involved or item.minor_involved
    row.user_reports = len({r.get("event_id") for r in reasons if r.get("signal") == "user_report"})
    if item.label_guess != "benign" and row.label_guess == "benign":
        row.label_guess = item.label_guess
    row.updated_at = row.last_event_at = at
    row.priority_key = priority_key(row.max_risk, row.minor_involved, row.user_reports, at)
    detail = {"event_id": decision.event_id, "actions": list(decision.actions), "risk": round(float(decision.risk), 4)}
    audit.append(session, SYSTEM_ACTOR, "case.open" if opened else "case.update", f"case:{row.case_id}", detail, at)
    return row.case_id


def _add_links(session: Session, memo: _IntakeMemo, case_id: str, item: CaseInput, at: datetime) -> None:
    """Link the decision's event, conversation and victims to the case (each once), asking the
    database only about links this transaction has not seen yet."""
    decision = item.decision
    wanted: list[tuple[str, str, str | None]] = [("event", decision.event_id, decision.conversation_id)]
    if decision.conversation_id:
        wanted.append(("conversation", decision.conversation_id, None))
    wanted.extend(("victim", v, None) for v in dict.fromkeys(item.victim_ids) if v and v != item.offender_id)
    known = memo.links.setdefault(case_id, set())
    unknown = sorted({ref for kind, ref, _ in wanted if (kind, ref) not in known})
    if unknown:
        known.update((k, r) for k, r in session.execute(_LINKS_AMONG, {"case_id": case_id, "refs": unknown}))
    for kind, ref, conversation_id in wanted:
        if (kind, ref) not in known:
            known.add((kind, ref))
            session.add(CaseLinkRow(case_id=case_id, kind=kind, ref=ref, conversation_id=conversation_id, added_at=at))


@dataclass
class _IntakeMemo:
    """What intake learned in the current transaction (the rows it added are not flushed yet)."""

    transaction: object
    locked: set[str] = field(default_factory=set)
    active: dict[str, CaseRow] = field(default_factory=dict)
    events: dict[tuple[str, str], str] = field(default_factory=dict)
    links: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    media: dict[str, set[tuple[str, str]]] = field(default_factory=dict)


def _memo(session: Session) -> _IntakeMemo:
    transaction = session.get_transaction()
    memo = session.info.get("trygg_intake")
    if memo is None or memo.transaction is not transaction:
        memo = session.info["trygg_intake"] = _IntakeMemo(transaction)
    return memo


def load_row(session: Session, case_id: str, for_update: bool = False) -> CaseRow:
    query = select(CaseRow).where(CaseRow.case_id == case_id)
    if for_update:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise CaseError(f"no case {case_id!r}")
    return row


def get_case(session: Session, case_id: str) -> Case:
    row = load_row(session, case_id)
    return _view(row, _links(session, [case_id]).get(case_id, {}))


def _links(session: Session, case_ids: list[str], kinds: tuple[str, ...] = ("victim", "conversation", "event")) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    if not case_ids:
        return out
    rows = session.execute(
        select(CaseLinkRow.case_id, CaseLinkRow.kind, CaseLinkRow.ref)
        .where(CaseLinkRow.case_id.in_(case_ids), CaseLinkRow.kind.in_(kinds))
        .order_by(CaseLinkRow.id)
    )
    for case_id, kind, ref in rows:
        out.setdefault(case_id, {}).setdefault(kind, []).append(ref)
    return out


def _view(row: CaseRow, links: Mapping[str, list[str]]) -> Case:
    return Case(
        case_id=row.case_id,
        offender_id=row.offender_id,
        status=row.status,
        label_guess=row.label_guess,
        max_risk=row.max_risk,
        minor_involved=bool(row.minor_involved),
        user_reports=row.user_reports,
        decisions=row.decisions,
        victims=tuple(links.get("victim", ())),
        conversations=tuple(links.get("conversation", ())),
        event_ids=tuple(links.get("event", ())),
        reasons=tuple(row.reasons),
        assignee=row.assignee,
        outcome=row.outcome,
        created_at=clock.utc(row.created_at),
        updated_at=clock.utc(row.updated_at),
        last_event_at=clock.utc(row.last_event_at),
        escalated_at=clock.utc(row.escalated_at) if row.escalated_at else None,
        reported_at=clock.utc(row.reported_at) if row.reported_at else None,
        priority_key=row.priority_key,
    )


def list_cases(
    session: Session,
    statuses: Iterable[str] | None = ACTIVE_STATUSES,
    offender_id: str | None = None,
    assignee: str | None = None,
    conversation_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Case]:
    """Cases in queue order (highest priority first; ties: most recently updated first).

    Listed cases carry victims and conversations but no ``event_ids`` (``decisions`` counts
    them); :func:`get_case` gives one case with all of its links.
    """
    query = select(CaseRow)
    if statuses is not None:
        wanted = list(statuses)
        unknown = set(wanted) - set(STATUSES)
        if unknown:
            raise CaseError(f"unknown status {sorted(unknown)}; expected some of {list(STATUSES)}")
        query = query.where(CaseRow.status.in_(wanted))
    if offender_id is not None:
        query = query.where(CaseRow.offender_id == offender_id)
    if assignee is not None:
        query = query.where(CaseRow.assignee == assignee)
    if conversation_id is not None:
        linked = select(CaseLinkRow.case_id).where(CaseLinkRow.kind == "conversation", CaseLinkRow.ref == conversation_id)
        query = query.where(CaseRow.case_id.in_(linked))
    query = query.order_by(CaseRow.priority_key.desc(), CaseRow.updated_at.desc(), CaseRow.case_id).limit(limit).offset(offset)
    rows = list(session.execute(query).scalars())
    # Lists leave out event ids: a prolific offender's case can link thousands (case() has them).
    links = _links(session, [r.case_id for r in rows], ("victim", "conversation"))
    return [_view(r, links.get(r.case_id, {})) for r in rows]


def count_cases(session: Session, statuses: Iterable[str] | None = ACTIVE_STATUSES) -> int:
    query = select(func.count()).select_from(CaseRow)
    if statuses is not None:
        query = query.where(CaseRow.status.in_(list(statuses)))
    return int(session.execute(query).scalar_one())


def move(row: CaseRow, status: str, at: datetime) -> str:
    """Change the status if :data:`TRANSITIONS` allows it; the status it had."""
    if status not in TRANSITIONS.get(row.status, frozenset()):
        allowed = sorted(TRANSITIONS.get(row.status, frozenset())) or "none"
        raise CaseError(f"case {row.case_id} is {row.status}; it cannot become {status} (allowed: {allowed})")
    previous = row.status
    row.status = status
    row.updated_at = at
    row.priority_key = priority_key(row.max_risk, row.minor_involved, row.user_reports, at)
    return previous


def event_links(session: Session, case_id: str) -> list[tuple[str, str | None]]:
    """``(event_id, conversation_id)`` of the case's events in the order trygg saw them."""
    rows = session.execute(
        select(CaseLinkRow.ref, CaseLinkRow.conversation_id)
        .where(CaseLinkRow.case_id == case_id, CaseLinkRow.kind == "event")
        .order_by(CaseLinkRow.id)
    )
    return [(ref, conversation_id) for ref, conversation_id in rows]


def media_rows(session: Session, case_id: str) -> list[CaseMediaRow]:
    return list(session.execute(select(CaseMediaRow).where(CaseMediaRow.case_id == case_id).order_by(CaseMediaRow.id)).scalars())
