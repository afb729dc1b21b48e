"""UTC times for the case layer: one place that decides how times are read back and written.

SQLite returns ``DateTime(timezone=True)`` values without their zone; PostgreSQL returns them
aware. Every comparison and every hash in the case layer goes through :func:`utc`, so the same
stored time means the same thing on both.
"""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC time (a naive value is taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def iso(value: datetime) -> str:
    """Canonical text of a time: UTC, microseconds, ``Z`` (what audit hashes cover)."""
    return utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
