"""The persisted queue of CyberTipline submissions, in the shared trygg schema.

One row per report, one row per file to upload with it. Each step of NCMEC's flow (submit,
upload, fileinfo, finish) records its result here as soon as the server confirms it, so a
process that stops half way resumes at the first step not yet confirmed and never repeats a
confirmed one: a finished report is never submitted again.

Least data: the rows keep ids, states, hashes and file metadata (names, MD5/PDQ), never the
report or chat text. Those live as files in the queue's spool folder (mode 0600) only until
the report is finished, then they are deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trygg.store.base import Base

#: Submission states, in the order the flow moves through them (``failed`` is terminal).
QUEUED, SUBMITTED, FINISHED, FAILED = "queued", "submitted", "finished", "failed"
#: File states.
PENDING, UPLOADED, DESCRIBED = "pending", "uploaded", "described"


class NcmecSubmissionRow(Base):
    __tablename__ = "ncmec_submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The caller's idempotency key (for example the case id): one report per key, ever.
    key: Mapped[str] = mapped_column(String(256), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    #: NCMEC's report id, set once /submit succeeded.
    report_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    report_sha256: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class NcmecSubmissionFileRow(Base):
    __tablename__ = "ncmec_submission_files"
    __table_args__ = (UniqueConstraint("submission_id", "position", name="uq_ncmec_submission_file_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("ncmec_submissions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(512))
    spool_name: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    #: The ReportFile fields that /fileinfo needs (names, hashes, flags), as JSON.
    details: Mapped[dict] = mapped_column(JSON)
    #: NCMEC's file id, set once /upload succeeded.
    file_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
