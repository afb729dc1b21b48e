"""Core tables: events seen, conversation and user state, decisions and alerts.

Least data that serves the purpose: the events table keeps the metadata needed for idempotent
ingestion and audit (ids, parties, time) and a SHA-256 of the message text, not the text itself;
decisions keep reasons with character spans, which point into text the platform still holds.
Only decisions other than ``allow`` are stored: an allowed message needs no record beyond its
event row, and this keeps the write volume of a busy platform small.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Float, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from trygg.store.base import Base

ID = String(256)


class EventRow(Base):
    __tablename__ = "events"

    event_id: Mapped[str] = mapped_column(ID, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(ID, index=True)
    sender_id: Mapped[str | None] = mapped_column(ID)
    recipient_id: Mapped[str | None] = mapped_column(ID)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConversationRow(Base):
    __tablename__ = "conversations"

    conversation_id: Mapped[str] = mapped_column(ID, primary_key=True)
    state: Mapped[dict] = mapped_column(JSON)
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserRow(Base):
    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    age_picture: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DecisionRow(Base):
    __tablename__ = "decisions"

    event_id: Mapped[str] = mapped_column(ID, primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(ID)
    actions: Mapped[list] = mapped_column(JSON)
    risk: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list] = mapped_column(JSON)
    policy: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_decisions_conversation", "conversation_id"),)


class AlertRow(Base):
    """The first alert of a conversation: what a moderator's queue starts from."""

    __tablename__ = "alerts"

    conversation_id: Mapped[str] = mapped_column(ID, primary_key=True)
    first_alert_event_id: Mapped[str] = mapped_column(ID)
    label_guess: Mapped[str] = mapped_column(String(32))
    risk: Mapped[float] = mapped_column(Float)
    offender_id: Mapped[str | None] = mapped_column(ID)
    reasons: Mapped[list] = mapped_column(JSON)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MediaHashRow(Base):
    """The PDQ hash of a media event, so that media already delivered can be matched again
    when a hash bank gains an entry (``trygg rescan --media``). A hash, never the media."""

    __tablename__ = "media_hashes"

    event_id: Mapped[str] = mapped_column(ID, primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(ID)
    sender_id: Mapped[str | None] = mapped_column(ID)
    pdq: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SinkOutboxRow(Base):
    """Where an output (a decisions file) stands, committed with the batch that fed it.

    ``committed_end`` is the output's length once the latest committed batch is in it and
    ``pending`` that batch's bytes: the sink appends them after the commit, and a restart after
    a crash cuts the output back to ``committed_end - len(pending)`` and appends ``pending`` once
    more. Only the latest batch is kept, so the row stays one batch large.
    """

    __tablename__ = "sink_outbox"

    sink_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    batches: Mapped[int] = mapped_column(Integer)
    committed_end: Mapped[int] = mapped_column(BigInteger)
    pending: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
