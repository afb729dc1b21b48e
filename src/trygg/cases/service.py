"""The case layer's front door: what the console, the API and the CLI call.

:class:`CaseService` wraps a SQLAlchemy engine and gives each operation its own transaction,
checks the reviewer's permission, requires a note for every reviewer action, and writes the
audit entry in the same transaction as the change. A refused operation is audited in a
transaction of its own, so the refusal is kept although the operation is not done.

Reviewer actions (each needs ``cases:act`` and a note):

- ``assign``: sets the assignee.
- ``dismiss``: status and outcome ``dismissed``; each hash match of the case becomes a media
  false-positive record.
- ``escalate``: status ``escalated``, outcome ``confirmed``; the supplied messages and the
  case's media hashes go into the vault.
- ``restrict_account``: records the restriction and queues an ``account_restricted`` webhook;
  outcome ``confirmed``.
- ``prepare_report`` (also ``evidence:view``): status ``reported``; evidence held a year from
  now; returns the :class:`~trygg.cases.case_report.CaseReport`; with ``submit`` queues a
  ``report`` delivery whose payload is the case id only.
- ``close``: status ``closed`` (from reported or dismissed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from trygg.cases import audit, cases, clock, outbox, vault
from trygg.cases.cases import Case, CaseError, CaseInput, CasePolicy
from trygg.cases.permissions import ADMIN, CASES_ACT, CASES_READ, EVIDENCE_VIEW, PermissionDenied, Reviewer, check
from trygg.cases.case_report import CaseReport, build_case_report
from trygg.cases.tables import AccountRestrictionRow, CaseLinkRow, CaseRow, MediaFalsePositiveRow

#: Longest note kept (a note is a reviewer's reason, not a place for evidence).
MAX_NOTE = 4000
#: Outbox kinds the case layer writes.
KIND_ACCOUNT_RESTRICTED = "account_restricted"
KIND_REPORT = "report"

T = TypeVar("T")
#: The change an action makes: (session, locked case row, time, audit detail to add to) -> result.
Work = Callable[[Session, CaseRow, datetime, dict[str, Any]], T]
#: Where escalation gets a case's message texts: the platform's own store, asked by event id.
EvidenceSource = Callable[[Case], Sequence[vault.EvidenceItem]]


def _note(note: str) -> str:
    cleaned = (note or "").strip()
    if not cleaned:
        raise CaseError("a note is required: say why")
    if len(cleaned) > MAX_NOTE:
        raise CaseError(f"note is {len(cleaned)} characters; at most {MAX_NOTE}")
    return cleaned


class CaseService:
    """Cases, queue, reviewer actions, evidence and labels over one database."""

    def __init__(
        self,
        engine: Engine,
        keyring: vault.Keyring | None = None,
        policy: CasePolicy | None = None,
        evidence_source: EvidenceSource | None = None,
    ) -> None:
        """``evidence_source(case)`` fetches a case's messages from the platform (trygg keeps
        no text) when a reviewer escalates without supplying them, e.g. from the console."""
        self.engine = engine
        self.keyring = keyring
        self.policy = policy or CasePolicy()
        self.evidence_source = evidence_source

    # ------------------------------------------------------------------ plumbing
    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def _require(self, reviewer: Reviewer, permission: str, subject: str) -> None:
        try:
            check(reviewer, permission, subject)
        except PermissionDenied:
            with self._session() as session, session.begin():
                audit.append(session, reviewer.reviewer_id, "permission.denied", subject, {"permission": permission})
            raise

    def _keys(self) -> vault.Keyring:
        if self.keyring is None:
            raise vault.VaultKeyError("this service has no vault keyring (Keyring.from_environment())")
        return self.keyring

    # ------------------------------------------------------------------ intake
    def record(self, item: CaseInput) -> str | None:
        """Open or update a case for one decision (None when it does not trigger one)."""
        with self._session() as session, session.begin():
            return cases.record_decision(session, item, self.policy)

    def record_many(self, items: Iterable[CaseInput]) -> list[str | None]:
        """:meth:`record` for many decisions in one transaction (a scan's batch)."""
        with self._session() as session, session.begin():
            return [cases.record_decision(session, item, self.policy) for item in items]

    # ------------------------------------------------------------------ reading
    def queue(self, reviewer: Reviewer, limit: int = 50, offset: int = 0, assignee: str | None = None) -> list[Case]:
        """Open and escalated cases, highest priority first (docs/cases.md, "Queue")."""
        self._require(reviewer, CASES_READ, "queue")
        with self._session() as session:
            return cases.list_cases(session, cases.ACTIVE_STATUSES, assignee=assignee, limit=limit, offset=offset)

    def list(
        self,
        reviewer: Reviewer,
        statuses: Iterable[str] | None = None,
        offender_id: str | None = None,
        conversation_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Case]:
        self._require(reviewer, CASES_READ, "cases")
        with self._session() as session:
            return cases.list_cases(session, statuses, offender_id=offender_id, conversation_id=conversation_id, limit=limit, offset=offset)

    def case(self, reviewer: Reviewer, case_id: str) -> Case:
        self._require(reviewer, CASES_READ, f"case:{case_id}")
        with self._session() as session:
            return cases.get_case(session, case_id)

    def history(self, reviewer: Reviewer, case_id: str) -> list[audit.AuditEntry]:
        """The case's audit entries (opened, updated, actions with their notes, evidence views)."""
        self._require(reviewer, CASES_READ, f"case:{case_id}")
        with self._session() as session:
            return audit.entries(session, subject=f"case:{case_id}")

    def evidence(self, reviewer: Reviewer, case_id: str, purpose: str = "review") -> list[vault.EvidenceItem]:
        """Decrypted evidence of the case (needs ``evidence:view``; every read audited)."""
        self._require(reviewer, EVIDENCE_VIEW, f"case:{case_id}")
        with self._session() as session, session.begin():
            return vault.read_evidence(session, self._keys(), reviewer, case_id, purpose)

    # ------------------------------------------------------------------ actions
    def _act(self, reviewer: Reviewer, case_id: str, action: str, note: str, work: Work[T]) -> T:
        self._require(reviewer, CASES_ACT, f"case:{case_id}")
        note = _note(note)
        at = clock.now()
        with self._session() as session, session.begin():
            row = cases.load_row(session, case_id, for_update=True)
            detail: dict[str, Any] = {"note": note, "status_before": row.status}
            result = work(session, row, at, detail)
            detail["status"] = row.status
            audit.append(session, reviewer.reviewer_id, f"case.{action}", f"case:{case_id}", detail, at)
            return result

    def assign(self, reviewer: Reviewer, case_id: str, assignee: str | None, note: str = "assigned") -> None:
        def work(session: Session, row: CaseRow, at: datetime, detail: dict[str, Any]) -> None:
            detail["assignee"], detail["assignee_before"] = assignee, row.assignee
            row.assignee = assignee

        self._act(reviewer, case_id, "assign", note, work)

    def dismiss(self, reviewer: Reviewer, case_id: str, note: str) -> list[tuple[str, str]]:
        """Dismiss the case; the ``(bank, content_hash)`` false positives it recorded."""

        def work(session: Session, row: CaseRow, at: datetime, detail: dict[str, Any]) -> list[tuple[str, str]]:
            cases.move(row, cases.DISMISSED, at)
            row.outcome = "dismissed"
            recorded = []
            for media in cases.media_rows(session, row.case_id):
                if media.content_hash is None:
                    continue
                known = session.execute(
                    select(MediaFalsePositiveRow.id).where(
                        MediaFalsePositiveRow.bank == media.bank,
                        MediaFalsePositiveRow.content_hash == media.content_hash,
                        MediaFalsePositiveRow.case_id == row.case_id,
                    )
                ).first()
                if not known:
                    session.add(MediaFalsePositiveRow(bank=media.bank, content_hash=media.content_hash, case_id=row.case_id, at=at))
                    recorded.append((media.bank, media.content_hash))
            detail["false_positives"] = [list(r) for r in recorded]
            return recorded

        return self._act(reviewer, case_id, "dismiss", note, work)

    def escalate(
        self, reviewer: Reviewer, case_id: str, note: str, evidence: Sequence[vault.EvidenceItem] = (), label: str | None = None
    ) -> int:
        """Escalate and preserve: ``evidence`` (messages with the text the platform supplies;
        when empty, what the service's ``evidence_source`` returns for the case) and the case's
        hash-matched media are sealed in the vault; the number of items sealed. ``label``
        overrides the case's label guess (the reviewer knows better)."""
        keyring = self._keys()
        if label is not None and label not in cases.LABELS:
            raise CaseError(f"unknown label {label!r}; expected one of {sorted(cases.LABELS)}")

        def work(session: Session, row: CaseRow, at: datetime, detail: dict[str, Any]) -> int:
            nonlocal evidence
            if not evidence and self.evidence_source is not None:
                evidence = list(self.evidence_source(cases.get_case(session, row.case_id)))
            cases.move(row, cases.ESCALATED, at)
            row.outcome, row.escalated_at = "confirmed", at
            if label is not None:
                detail["label"], detail["label_before"] = label, row.label_guess
                row.label_guess = label
            supplied = {(item.event_id, item.kind) for item in evidence}
            conversation_of = dict(cases.event_links(session, row.case_id))
            media = [
                vault.EvidenceItem(
                    event_id=m.event_id,
                    kind="media",
                    conversation_id=conversation_of.get(m.event_id),
                    sender_id=row.offender_id,
                    hashes={"content": m.content_hash} if m.content_hash else {},
                    bank=m.bank,
                )
                for m in cases.media_rows(session, row.case_id)
                if (m.event_id, "media") not in supplied
            ]
            sealed = vault.preserve(session, keyring, reviewer.reviewer_id, row.case_id, [*evidence, *media], at)
            detail["preserved"] = sealed
            return sealed

        return self._act(reviewer, case_id, "escalate", note, work)

    def restrict_account(self, reviewer: Reviewer, case_id: str, note: str, restriction: str = "restrict_sender") -> int:
        """Restrict the case's offender; the outbox id of the webhook that tells the platform."""

        def work(session: Session, row: CaseRow, at: datetime, detail: dict[str, Any]) -> int:
            if row.status not in (cases.OPEN, cases.ESCALATED, cases.REPORTED):
                raise CaseError(f"case {row.case_id} is {row.status}; only an open, escalated or reported case restricts an account")
            row.outcome = "confirmed"
            session.add(AccountRestrictionRow(user_id=row.offender_id, case_id=row.case_id, restriction=restriction, reviewer_id=reviewer.reviewer_id, at=at))
            payload = {"type": KIND_ACCOUNT_RESTRICTED, "user_id": row.offender_id, "restriction": restriction, "case_id": row.case_id, "at": clock.iso(at)}
            delivery = outbox.enqueue(session, KIND_ACCOUNT_RESTRICTED, payload, at=at)
            detail.update(user_id=row.offender_id, restriction=restriction, outbox_id=delivery)
            return delivery

        return self._act(reviewer, case_id, "restrict_account", note, work)

    def prepare_report(
        self, reviewer: Reviewer, case_id: str, note: str, age_pictures: Mapping[str, Any] | None = None, submit: bool = False
    ) -> CaseReport:
        """Mark the case reported, hold its evidence a year from now, and return the report's
        data (offender, victims with age pictures, messages and hashes from the vault)."""
        self._require(reviewer, EVIDENCE_VIEW, f"case:{case_id}")
        keyring = self._keys()

        def work(session: Session, row: CaseRow, at: datetime, detail: dict[str, Any]) -> CaseReport:
            cases.move(row, cases.REPORTED, at)
            row.outcome, row.reported_at = "confirmed", at
            detail["hold_until"] = clock.iso(vault.hold_from_report(session, reviewer.reviewer_id, row.case_id, at))
            if submit:
                detail["outbox_id"] = outbox.enqueue(session, KIND_REPORT, {"case_id": row.case_id}, dedupe_key=f"report:{row.case_id}", at=at)
            session.flush()
            return build_case_report(session, keyring, reviewer, row.case_id, age_pictures)

        return self._act(reviewer, case_id, "prepare_report", note, work)

    def case_report(self, reviewer: Reviewer, case_id: str, age_pictures: Mapping[str, Any] | None = None) -> CaseReport:
        """The report data of a case again (e.g. for a resubmission). A service without a
        keyring reports a case with nothing preserved (a text-only report from the case's
        reasons); one with preserved items raises :class:`~trygg.cases.vault.VaultKeyError`."""
        self._require(reviewer, EVIDENCE_VIEW, f"case:{case_id}")
        with self._session() as session, session.begin():
            return build_case_report(session, self.keyring, reviewer, case_id, age_pictures)

    def close(self, reviewer: Reviewer, case_id: str, note: str) -> None:
        self._act(reviewer, case_id, "close", note, lambda session, row, at, detail: cases.move(row, cases.CLOSED, at))

    def extend_hold(self, reviewer: Reviewer, case_id: str, until: datetime, note: str) -> datetime:
        """Hold the case's evidence longer (e.g. at a law-enforcement request). Admin only."""
        self._require(reviewer, ADMIN, f"case:{case_id}")
        with self._session() as session, session.begin():
            return vault.extend_hold(session, reviewer.reviewer_id, case_id, until, _note(note))

    # ------------------------------------------------------------------ outcomes
    def export_labels(self, reviewer: Reviewer) -> list[dict[str, object]]:
        """Reviewer outcomes as labels (docs/cases.md "Labels"), for ``trygg train``."""
        self._require(reviewer, CASES_READ, "labels")
        with self._session() as session:
            return list(review_labels(session))

    def false_positives(self, bank: str | None = None) -> list[tuple[str, str, str, datetime]]:
        """``(bank, content_hash, case_id, at)`` of dismissed hash matches (for the banks)."""
        with self._session() as session:
            return false_positives(session, bank)


def review_labels(session: Session) -> Iterator[dict[str, object]]:
    """One label per conversation of every reviewed case, in the project's labels format.

    A confirmed case labels each of its conversations with the case's label, its offender and
    the first of the case's events in that conversation as ``first_harmful_event_id``; a
    dismissed case labels them ``benign`` with ``hard_negative: true`` (trygg flagged them and
    a person said no: the hardest negatives there are). A conversation in a confirmed and a
    dismissed case takes the confirmed label. A confirmed case whose label is still ``benign``
    (a reviewer confirmed without saying what harm) gives no label: guessing one would teach
    the model a label nobody gave.
    """
    reviewed = session.execute(select(CaseRow).where(CaseRow.outcome.is_not(None)).order_by(CaseRow.created_at, CaseRow.case_id)).scalars()
    labels: dict[str, dict[str, object]] = {}
    for row in reviewed:
        first_event: dict[str, str] = {}
        language_of: dict[str, str] = {}
        languages = _languages_by_event(row.reasons)
        for event_id, conversation_id in cases.event_links(session, row.case_id):
            if conversation_id:
                first_event.setdefault(conversation_id, event_id)
                if event_id in languages:
                    language_of.setdefault(conversation_id, languages[event_id])
        conversations = session.execute(
            select(CaseLinkRow.ref).where(CaseLinkRow.case_id == row.case_id, CaseLinkRow.kind == "conversation").order_by(CaseLinkRow.id)
        ).scalars()
        for conversation_id in conversations:
            confirmed = row.outcome == "confirmed"
            if confirmed and row.label_guess == "benign":
                continue
            previous = labels.get(conversation_id)
            if previous is not None and (previous["label"] != "benign" or not confirmed):
                continue
            first = first_event.get(conversation_id)
            label: dict[str, object] = {
                "conversation_id": conversation_id,
                "label": row.label_guess if confirmed else "benign",
                "offender_id": row.offender_id if confirmed else None,
                "first_harmful_event_id": first if confirmed else None,
                "hard_negative": not confirmed,
                "source": "review",
                "case_id": row.case_id,
            }
            language = language_of.get(conversation_id)
            if language:
                label["language"] = language
            labels[conversation_id] = label
    yield from labels.values()


def _languages_by_event(reasons: Iterable[Mapping[str, object]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for reason in reasons:
        if reason.get("language") and reason.get("event_id"):
            out.setdefault(str(reason["event_id"]), str(reason["language"]))
    return out


def false_positives(session: Session, bank: str | None = None) -> list[tuple[str, str, str, datetime]]:
    query = select(MediaFalsePositiveRow).order_by(MediaFalsePositiveRow.id)
    if bank is not None:
        query = query.where(MediaFalsePositiveRow.bank == bank)
    return [(r.bank, r.content_hash, r.case_id, clock.utc(r.at)) for r in session.execute(query).scalars()]
