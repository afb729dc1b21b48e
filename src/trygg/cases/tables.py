"""Tables of the case layer: cases and their links, reviewers, the audit chain, the evidence
vault, media false positives and the delivery outbox.

What is stored, and why (docs/cases.md "What is stored"): cases keep ids, parties, scores and
reasons (signal, event id, character span), never message text; the only text trygg keeps is
in ``vault_items``, encrypted, and only for cases a reviewer escalated. Times are stored as
timezone-aware UTC (SQLite hands them back naive; readers treat naive as UTC).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trygg.store.base import Base

ID = String(256)


class CaseRow(Base):
    """One case: one offender's harm as seen so far, across every victim and conversation.

    ``priority_key`` is the queue order (``trygg.cases.priority``): the case's priority plus a
    term that grows with ``updated_at``, so the order by one indexed column equals the order by
    priority with a penalty for staleness, at any moment.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_offender_status", "offender_id", "status"),
        Index("ix_cases_status_priority", "status", "priority_key"),
    )

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    offender_id: Mapped[str] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(16))
    label_guess: Mapped[str] = mapped_column(String(32))
    max_risk: Mapped[float] = mapped_column(Float)
    minor_involved: Mapped[bool] = mapped_column(default=False)
    user_reports: Mapped[int] = mapped_column(Integer, default=0)
    decisions: Mapped[int] = mapped_column(Integer, default=0)
    #: ``[{signal, score, event_id, span?, language?, value?}]``, one per (signal, event, span).
    reasons: Mapped[list] = mapped_column(JSON)
    assignee: Mapped[str | None] = mapped_column(ID, nullable=True)
    #: Reviewer outcome: ``confirmed`` (escalated, restricted, reported) or ``dismissed``.
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    priority_key: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: When the last decision joined the case (``updated_at`` also moves with reviewer actions).
    last_event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CaseLinkRow(Base):
    """What a case is about: ``victim``, ``conversation`` and ``event`` ids (one row each).

    Events keep their conversation so that labels can name each conversation's first harmful
    event; ``id`` order is the order trygg saw them in.
    """

    __tablename__ = "case_links"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", "ref", name="uq_case_links"),
        Index("ix_case_links_ref", "kind", "ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(ID)
    conversation_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseMediaRow(Base):
    """A media event of a case that matched a hash bank: which bank, which content hash."""

    __tablename__ = "case_media"
    __table_args__ = (UniqueConstraint("case_id", "event_id", "bank", name="uq_case_media"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(ID)
    bank: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)
    entry_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class MediaFalsePositiveRow(Base):
    """A hash match a reviewer dismissed: banks read this to review or drop the entry."""

    __tablename__ = "media_false_positives"
    __table_args__ = (UniqueConstraint("bank", "content_hash", "case_id", name="uq_media_false_positives"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bank: Mapped[str] = mapped_column(String(64), index=True)
    content_hash: Mapped[str] = mapped_column(String(128), index=True)
    case_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountRestrictionRow(Base):
    """An account a reviewer restricted (the platform is told through the outbox)."""

    __tablename__ = "account_restrictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ID, index=True)
    case_id: Mapped[str] = mapped_column(String(64))
    restriction: Mapped[str] = mapped_column(String(64))
    reviewer_id: Mapped[str] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewerRow(Base):
    """A person who works the queue, and what they may do (``trygg.cases.permissions``)."""

    __tablename__ = "reviewers"

    reviewer_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    permissions: Mapped[list] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntryRow(Base):
    """One entry of the append-only audit chain (``trygg.cases.audit``).

    ``seq`` is dense (1, 2, 3 ...) so that a removed entry leaves a gap; ``entry_hash`` is
    SHA-256 over ``prev_hash`` and the entry's canonical content.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(ID)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(ID)
    detail: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain's head (last seq and hash), one row: appends lock it, so concurrent writers on
    PostgreSQL cannot fork the chain, and a removed last entry no longer matches it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))


class VaultHoldRow(Base):
    """How long a case's evidence is held: one year from the report, unless extended."""

    __tablename__ = "vault_holds"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    held_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    hold_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    extensions: Mapped[int] = mapped_column(Integer, default=0)


class VaultItemRow(Base):
    """One preserved item (a message or a media record), encrypted with AES-256-GCM.

    Only ids and times are in the clear; the payload (text, parties, hashes) is the
    ciphertext, bound to its case and event by the associated data.
    """

    __tablename__ = "vault_items"
    __table_args__ = (UniqueConstraint("case_id", "event_id", "kind", name="uq_vault_items"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("vault_holds.case_id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(64), index=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxRow(Base):
    """A delivery waiting to go out (webhook, report submission); survives restarts."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    #: Caller's idempotency key: enqueueing the same key twice keeps one delivery.
    dedupe_key: Mapped[str | None] = mapped_column(String(256), unique=True, nullable=True)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
