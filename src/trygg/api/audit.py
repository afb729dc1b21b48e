"""Audit log of API calls: who called what, with which outcome. No request bodies are kept."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from trygg.store.base import Base


class ApiAuditRow(Base):
    __tablename__ = "api_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    status: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(256), nullable=True)


def record(engine, key_id: str | None, method: str, path: str, status: int, detail: str | None = None) -> None:  # type: ignore[no-untyped-def]
    # The path and the note may quote what the caller sent: a NUL there is written as \x00 (a
    # PostgreSQL text column keeps no NUL, and a call must not fail on its own audit row).
    path, detail = path.replace("\x00", "\\x00"), (detail or "").replace("\x00", "\\x00")
    with engine.begin() as connection:
        connection.execute(
            ApiAuditRow.__table__.insert().values(
                at=datetime.now(timezone.utc), key_id=key_id, method=method, path=path[:512], status=status, detail=detail[:256] or None
            )
        )


def note(request: Any, detail: str) -> None:
    """What this call's audit row says besides who, route and status (the API's audit
    middleware writes the row when the response goes out, whatever the route did)."""
    request.state.audit_detail = detail
