"""What a rescan of the event archive found: one row per run, one per decision it changed.

``trygg rescan --events`` replays the platform's event archive through the current policy and
model and compares each new decision with the one stored for the event. A run is recorded
whether or not it changed anything (what it compared, under which policy); a result row keeps
both decisions, old and new, with their reasons, so a reviewer sees what the change was and why.
Like the decisions table, results hold ids, actions, scores and reasons, never message text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from trygg.store.base import Base
from trygg.store.tables import ID


class RescanRunRow(Base):
    """One rescan: what it read, under which policy, and what it found."""

    __tablename__ = "rescan_runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(1024))
    policy: Mapped[str] = mapped_column(String(64))
    model: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lines: Mapped[int] = mapped_column(Integer, default=0)
    compared: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[int] = mapped_column(Integer, default=0)


class RescanResultRow(Base):
    """A decision a rescan changed: the stored one before, the new one after."""

    __tablename__ = "rescan_results"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(ID, primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(ID)
    old_actions: Mapped[list] = mapped_column(JSON)
    old_risk: Mapped[float | None] = mapped_column(Float)
    old_reasons: Mapped[list] = mapped_column(JSON)
    old_policy: Mapped[str | None] = mapped_column(String(64))
    new_actions: Mapped[list] = mapped_column(JSON)
    new_risk: Mapped[float] = mapped_column(Float)
    new_reasons: Mapped[list] = mapped_column(JSON)
    new_policy: Mapped[str] = mapped_column(String(64))
    escalated: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_rescan_results_event", "event_id"),)
