"""API keys with scopes, stored as salted hashes: a leaked database does not leak working keys.

A key reads ``trygg_<key_id>_<secret>``. Only ``key_id``, the scopes and a SHA-256 of the
secret with a per-key salt are stored; the secret is shown once, when the key is created.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from trygg.store.base import Base

#: Every scope an API key can hold, and what it allows. ``ingest``, ``review`` and ``admin``
#: are what keys are given; the fine-grained names are what routes check, and stay valid on
#: their own for keys made before the three existed (docs/api.md, "Scopes").
SCOPES: dict[str, str] = {
    "ingest": "send events and receive decisions; submit Take It Down hashes (events:write, banks:submit)",
    "review": "read conversation risk, age pictures and cases; act on cases (conversations:read, users:read, cases:read, cases:act)",
    "admin": "everything, including hash-bank management and case evidence",
    "events:write": "send events and receive decisions",
    "conversations:read": "read conversation summaries (risk, offender guess, reasons)",
    "users:read": "read a user's age picture",
    "cases:read": "list and read cases and their audit trail",
    "cases:act": "act on cases (dismiss, escalate, restrict, report)",
    "banks:write": "manage hash banks",
    "banks:submit": "add a self-submitted hash (Take It Down) to a bank",
}
#: The fine-grained scopes each broad scope grants (``admin`` grants every scope).
GRANTS: dict[str, frozenset[str]] = {
    "ingest": frozenset({"events:write", "banks:submit"}),
    "review": frozenset({"conversations:read", "users:read", "cases:read", "cases:act"}),
    "admin": frozenset(SCOPES),
}
PREFIX = "trygg"


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    salt: Mapped[str] = mapped_column(String(64))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, name and scopes."""

    key_id: str
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        """Whether the key holds ``scope`` itself or a broad scope that grants it."""
        return scope in self.scopes or any(scope in GRANTS.get(held, ()) for held in self.scopes)


class InvalidKey(Exception):
    """The presented key is malformed, unknown, revoked or wrong."""


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def create_key(engine, name: str, scopes: list[str]) -> str:  # type: ignore[no-untyped-def]
    """Create a key with these scopes and return it in full (the only time it is visible)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    if not scopes:
        raise ValueError("a key needs at least one scope")
    key_id, secret, salt = secrets.token_hex(8), secrets.token_urlsafe(32), secrets.token_hex(16)
    with engine.begin() as connection:
        connection.execute(
            ApiKeyRow.__table__.insert().values(
                key_id=key_id,
                name=name,
                salt=salt,
                secret_sha256=_digest(salt, secret),
                scopes=sorted(set(scopes)),
                created_at=datetime.now(timezone.utc),
            )
        )
    return f"{PREFIX}_{key_id}_{secret}"


def revoke_key(engine, key_id: str) -> bool:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        result = connection.execute(
            update(ApiKeyRow).where(ApiKeyRow.key_id == key_id, ApiKeyRow.revoked_at.is_(None)).values(revoked_at=datetime.now(timezone.utc))
        )
    return bool(result.rowcount)


def authenticate(engine, presented: str) -> Principal:  # type: ignore[no-untyped-def]
    """Check a presented key; raises :class:`InvalidKey` without saying which part was wrong."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise InvalidKey("malformed API key")
    _, key_id, secret = parts
    with engine.connect() as connection:
        row = connection.execute(select(ApiKeyRow.__table__).where(ApiKeyRow.key_id == key_id)).mappings().first()
    if row is None or row["revoked_at"] is not None or not hmac.compare_digest(row["secret_sha256"], _digest(row["salt"], secret)):
        raise InvalidKey("invalid or revoked API key")
    return Principal(row["key_id"], row["name"], frozenset(row["scopes"]))
