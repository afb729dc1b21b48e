"""Who may do what with cases: permissions, the roles that bundle them, and the check.

Viewing child-safety evidence is its own permission (``evidence:view``), apart from reading the
queue: most of a case (who, when, which signals, scores) can be worked without seeing the
messages or media, and exposure to that material should be limited to the people trained for
it. The service writes every refusal to the audit log too, so attempts show, not only successes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from trygg.cases import audit, clock
from trygg.cases.tables import ReviewerRow

#: Read the queue and cases (parties, signals, scores; no message text, no media).
CASES_READ = "cases:read"
#: Act on cases: assign, dismiss, escalate, restrict an account, prepare a report.
CASES_ACT = "cases:act"
#: See preserved evidence (message text, media hashes) from the vault.
EVIDENCE_VIEW = "evidence:view"
#: Manage reviewers, extend vault holds, purge and rewrap the vault. Implies every other.
ADMIN = "admin"

PERMISSIONS: frozenset[str] = frozenset({CASES_READ, CASES_ACT, EVIDENCE_VIEW, ADMIN})

#: Named bundles; a reviewer is stored with the permissions themselves, so a role can change
#: here without silently changing what existing reviewers may do.
ROLES: dict[str, frozenset[str]] = {
    "viewer": frozenset({CASES_READ}),
    "reviewer": frozenset({CASES_READ, CASES_ACT}),
    "specialist": frozenset({CASES_READ, CASES_ACT, EVIDENCE_VIEW}),
    "admin": frozenset({ADMIN}),
}


class PermissionDenied(PermissionError):
    """The reviewer lacks the permission the operation needs."""


class UnknownReviewer(LookupError):
    """No active reviewer with that id."""


@dataclass(frozen=True)
class Reviewer:
    reviewer_id: str
    permissions: frozenset[str]
    name: str = ""

    def can(self, permission: str) -> bool:
        return ADMIN in self.permissions or permission in self.permissions


def expand(roles_or_permissions: list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    """Permissions named directly or through a role; an unknown name is an error, not ignored."""
    granted: set[str] = set()
    for name in roles_or_permissions:
        if name in ROLES:
            granted |= ROLES[name]
        elif name in PERMISSIONS:
            granted.add(name)
        else:
            raise ValueError(f"unknown role or permission {name!r}; roles: {sorted(ROLES)}, permissions: {sorted(PERMISSIONS)}")
    return frozenset(granted)


def add_reviewer(
    session: Session, actor: str, reviewer_id: str, grants: list[str], name: str = "", at: datetime | None = None
) -> Reviewer:
    """Create or update a reviewer with the permissions of ``grants`` (roles or permissions)."""
    if not reviewer_id:
        raise ValueError("reviewer id must not be empty")
    permissions = expand(grants)
    at = clock.utc(at or clock.now())
    row = session.get(ReviewerRow, reviewer_id)
    if row is None:
        row = ReviewerRow(reviewer_id=reviewer_id, name=name, permissions=sorted(permissions), active=True, created_at=at)
        session.add(row)
    else:
        row.permissions, row.active = sorted(permissions), True
        row.name = name or row.name
    audit.append(session, actor, "reviewer.grant", f"reviewer:{reviewer_id}", {"permissions": sorted(permissions)}, at)
    return Reviewer(reviewer_id, permissions, row.name)


def deactivate_reviewer(session: Session, actor: str, reviewer_id: str, at: datetime | None = None) -> None:
    row = session.get(ReviewerRow, reviewer_id)
    if row is None:
        raise UnknownReviewer(reviewer_id)
    row.active = False
    audit.append(session, actor, "reviewer.deactivate", f"reviewer:{reviewer_id}", {}, at)


def get_reviewer(session: Session, reviewer_id: str) -> Reviewer:
    row = session.get(ReviewerRow, reviewer_id)
    if row is None or not row.active:
        raise UnknownReviewer(f"no active reviewer {reviewer_id!r}")
    return Reviewer(row.reviewer_id, frozenset(row.permissions), row.name)


def check(reviewer: Reviewer, permission: str, subject: str) -> None:
    """Raise :class:`PermissionDenied` unless ``reviewer`` has ``permission``.

    Pure; :class:`trygg.cases.service.CaseService` audits each refusal in its own transaction
    (so the refusal is kept although the refused operation rolls back).
    """
    if not reviewer.can(permission):
        raise PermissionDenied(f"{reviewer.reviewer_id} lacks {permission!r} for {subject}")
