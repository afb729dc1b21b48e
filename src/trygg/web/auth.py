"""Console sign-in: reviewer passwords hashed with Argon2id, server-side sessions, CSRF tokens.

The case library's ``reviewers`` table says what a reviewer may do; this module says who they
are. A password is stored only as an Argon2id hash (``argon2-cffi``, its default parameters).
A session is a random token in an HttpOnly, SameSite=Strict cookie; the database keeps only its
SHA-256, so a leaked table does not give working sessions. Each session has its own CSRF token,
which every form POST must carry back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import DateTime, String, delete
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Mapped, Session, mapped_column

from trygg.cases import audit
from trygg.cases.permissions import Reviewer, UnknownReviewer, add_reviewer, get_reviewer
from trygg.store.base import Base

_HASHER = PasswordHasher()
#: Verified against when the reviewer id is unknown, so a wrong id takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("trygg: no such reviewer")
#: Shortest password accepted for a reviewer account.
MIN_PASSWORD = 12


class CredentialRow(Base):
    __tablename__ = "console_credentials"

    reviewer_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    __tablename__ = "console_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    reviewer_id: Mapped[str] = mapped_column(String(256), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class SignedIn:
    """A live session: the reviewer as the database has them now, and the session's CSRF token."""

    reviewer: Reviewer
    csrf_token: str


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def create_reviewer(database: SqlEngine, actor: str, reviewer_id: str, grants: list[str], password: str, name: str = "") -> Reviewer:
    """Create or update a reviewer with these roles/permissions and set their password."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    with Session(database) as session, session.begin():
        reviewer = add_reviewer(session, actor, reviewer_id, grants, name=name)
        row = session.get(CredentialRow, reviewer_id)
        digest = _HASHER.hash(password)
        if row is None:
            session.add(CredentialRow(reviewer_id=reviewer_id, password_hash=digest, updated_at=_now()))
        else:
            row.password_hash, row.updated_at = digest, _now()
        audit.append(session, actor, "reviewer.password", f"reviewer:{reviewer_id}", {})
    return reviewer


def sign_in(database: SqlEngine, reviewer_id: str, password: str, lifetime: timedelta) -> tuple[str, SignedIn] | None:
    """Check the password; a new session ``(cookie token, SignedIn)``, or None. Both outcomes
    are written to the audit chain."""
    with Session(database) as session, session.begin():
        # No reviewer id holds a NUL, and PostgreSQL could not even look one up: no such reviewer.
        row = session.get(CredentialRow, reviewer_id) if "\x00" not in reviewer_id else None
        try:
            _HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
            reviewer = get_reviewer(session, reviewer_id) if row else None
        except (VerificationError, InvalidHashError, UnknownReviewer):
            reviewer = None
        if reviewer is None:
            shown = reviewer_id[:64].replace("\x00", "\\x00")
            audit.append(session, "console", "console.login_failed", f"reviewer:{shown}", {})
            return None
        if _HASHER.check_needs_rehash(row.password_hash):
            row.password_hash = _HASHER.hash(password)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = _now()
        session.execute(delete(SessionRow).where(SessionRow.expires_at < now))
        session.add(SessionRow(token_sha256=_token_digest(token), reviewer_id=reviewer_id, csrf_token=csrf, created_at=now, expires_at=now + lifetime))
        audit.append(session, reviewer_id, "console.login", f"reviewer:{reviewer_id}", {})
    return token, SignedIn(reviewer, csrf)


def current(database: SqlEngine, token: str | None) -> SignedIn | None:
    """The session of a cookie token, with the reviewer's permissions as stored now (a revoked
    permission or deactivated reviewer takes effect on the next request)."""
    if not token:
        return None
    with Session(database) as session:
        row = session.get(SessionRow, _token_digest(token))
        if row is None or _utc(row.expires_at) <= _now():
            return None
        try:
            reviewer = get_reviewer(session, row.reviewer_id)
        except UnknownReviewer:
            return None
        return SignedIn(reviewer, row.csrf_token)


def sign_out(database: SqlEngine, token: str | None) -> None:
    if not token:
        return
    with Session(database) as session, session.begin():
        row = session.get(SessionRow, _token_digest(token))
        if row is not None:
            audit.append(session, row.reviewer_id, "console.logout", f"reviewer:{row.reviewer_id}", {})
            session.delete(row)


def csrf_matches(expected: str | None, presented: str | None) -> bool:
    return bool(expected and presented) and hmac.compare_digest(str(expected), str(presented))

