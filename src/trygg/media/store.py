"""Hash-bank tables: named banks and their entries, in the shared trygg schema.

A bank (``ncmec``, ``stopncii``, ``local``, ``take_it_down``...) has its own match threshold and
action because lists differ in how they were built and what a match obliges a platform to do.
Entries keep where they came from and when, which is what an audit or a takedown dispute asks.
Only hashes are stored, never media.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from trygg.store.base import Base


class HashBankRow(Base):
    __tablename__ = "media_banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(256), default="")
    description: Mapped[str] = mapped_column(String(1024), default="")
    threshold: Mapped[int] = mapped_column(Integer, default=31)
    action: Mapped[str] = mapped_column(String(32), default="block")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BankEntryRow(Base):
    """One hashed item. ``kind`` is ``image`` or ``video_frame``; the frames of one bank video
    share a ``video_key`` so that a query video can be matched against the video as a whole."""

    __tablename__ = "media_bank_entries"
    __table_args__ = (
        Index("ix_media_bank_entries_md5", "md5"),
        Index("ix_media_bank_entries_sha256", "sha256"),
        Index("ix_media_bank_entries_bank_pdq", "bank_id", "pdq"),
        # Never reuse a removed entry's id: audit trails and reports refer to entries by id.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("media_banks.id", ondelete="CASCADE"), index=True)
    pdq: Mapped[str | None] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(Integer)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="image")
    video_key: Mapped[str | None] = mapped_column(String(128))
    label: Mapped[str | None] = mapped_column(String(256))
    source: Mapped[str] = mapped_column(String(256), default="")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
