"""API routes for review: a user's age picture, and cases (list, read, history, act).

An API key acts on cases as the reviewer ``api:<key_id>``: with ``review`` it may read and act
(``cases:read``, ``cases:act``), with ``admin`` it may also read evidence and prepare reports.
Every action needs a note, exactly as in the console, and lands in the same audit chain.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from trygg.api import audit
from trygg.api.keys import Principal
from trygg.cases.cases import CaseError
from trygg.cases.permissions import ADMIN, CASES_ACT, CASES_READ, PermissionDenied, Reviewer
from trygg.cases.service import MAX_NOTE, CaseService
from trygg.cases.vault import EvidenceItem, VaultError
from trygg.engine import Engine
from trygg.events import Identifier, Name
from trygg.store.repository import Store
from trygg.web import views

ID = Identifier  # 1 to 256 characters, no NUL (trygg.events)


class EvidenceMessage(BaseModel):
    """A message the platform supplies when escalating (trygg never kept its text)."""

    model_config = ConfigDict(extra="forbid")
    event_id: ID
    text: Annotated[str, Field(max_length=65536)]
    conversation_id: ID | None = None
    sender_id: ID | None = None
    recipient_id: ID | None = None
    sent_at: Annotated[str, Field(max_length=64)] | None = None


class CaseAction(BaseModel):
    """A reviewer action on a case; ``note`` says why and is kept in the audit chain."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["dismiss", "escalate", "restrict_account", "prepare_report", "close"]
    note: Annotated[str, Field(min_length=1, max_length=MAX_NOTE)]
    restriction: Name = "restrict_sender"
    label: Literal["grooming", "solicitation", "sextortion", "benign"] | None = None
    evidence: Annotated[list[EvidenceMessage], Field(max_length=500)] = []
    submit: bool = False


def reviewer_of(who: Principal) -> Reviewer:
    """The reviewer an API key acts as."""
    permissions = {ADMIN} if "admin" in who.scopes else set()
    if who.allows("cases:read"):
        permissions.add(CASES_READ)
    if who.allows("cases:act"):
        permissions.add(CASES_ACT)
    return Reviewer(f"api:{who.key_id}", frozenset(permissions), who.name)


def review_router(store: Store, engine: Engine, lock: threading.Lock, service: CaseService, require: Any) -> APIRouter:
    router = APIRouter()

    def age_pictures(user_ids: list[str]) -> dict[str, dict[str, Any]]:
        return views.age_pictures(store, engine, lock, user_ids)

    @router.get("/v1/users/{user_id}/age")
    def get_age(request: Request, user_id: str, who: Principal = Depends(require("users:read", "review"))) -> dict[str, Any]:
        """The user's age picture: declared and stated ages, adult evidence, p(minor)."""
        with lock:
            known = user_id in engine.ages
        if not known and not store.load_users([user_id]):
            audit.note(request, user_id)
            raise HTTPException(404, f"no user {user_id!r}")
        audit.note(request, user_id)
        return age_pictures([user_id])[user_id]

    @router.get("/v1/cases")
    def list_cases(
        request: Request,
        status: Annotated[list[Literal["open", "escalated", "dismissed", "reported", "closed"]] | None, Query()] = None,
        offender_id: Annotated[str | None, Query(max_length=256)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        who: Principal = Depends(require("cases:read", "review")),
    ) -> dict[str, Any]:
        """Cases; without ``status``, the review queue (open and escalated, by priority)."""
        reviewer = reviewer_of(who)
        if status is None and offender_id is None:
            found = service.queue(reviewer, limit=limit, offset=offset)
        else:
            found = service.list(reviewer, statuses=status, offender_id=offender_id, limit=limit, offset=offset)
        audit.note(request, f"{len(found)} cases")
        return {"cases": [case.as_dict() for case in found]}

    def load(request: Request, who: Principal, case_id: str) -> Any:
        try:
            return service.case(reviewer_of(who), case_id)
        except CaseError:
            audit.note(request, case_id)
            raise HTTPException(404, f"no case {case_id!r}") from None

    @router.get("/v1/cases/{case_id}")
    def get_case(request: Request, case_id: str, who: Principal = Depends(require("cases:read", "review"))) -> dict[str, Any]:
        """One case with its parties' age pictures and its audit trail."""
        case = load(request, who, case_id)
        history = service.history(reviewer_of(who), case_id)
        audit.note(request, case_id)
        return {
            **case.as_dict(),
            "age_pictures": age_pictures([case.offender_id, *case.victims]),
            "history": [
                {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "detail": e.detail} for e in history
            ],
        }

    @router.post("/v1/cases/{case_id}/actions")
    def act(request: Request, case_id: str, body: CaseAction, who: Principal = Depends(require("cases:act", "review"))) -> dict[str, Any]:
        """Dismiss, escalate (with the messages as evidence), restrict the account, prepare a
        report (admin keys: it reads evidence) or close; the case as it is afterwards."""
        reviewer = reviewer_of(who)
        load(request, who, case_id)
        result: dict[str, Any] = {}
        try:
            if body.action == "dismiss":
                result["false_positives"] = [list(fp) for fp in service.dismiss(reviewer, case_id, body.note)]
            elif body.action == "escalate":
                items = [EvidenceItem(kind="message", **m.model_dump()) for m in body.evidence]
                result["preserved"] = service.escalate(reviewer, case_id, body.note, items, label=body.label)
            elif body.action == "restrict_account":
                result["outbox_id"] = service.restrict_account(reviewer, case_id, body.note, body.restriction)
            elif body.action == "prepare_report":
                case = service.case(reviewer, case_id)
                report = service.prepare_report(reviewer, case_id, body.note, age_pictures([case.offender_id, *case.victims]), submit=body.submit)
                result["report"] = {"case_id": report.case_id, "messages": len(report.messages), "media": len(report.media)}
            else:
                service.close(reviewer, case_id, body.note)
        except PermissionDenied as exc:
            audit.note(request, body.action)
            raise HTTPException(403, str(exc)) from None
        except (CaseError, VaultError) as exc:
            audit.note(request, body.action)
            raise HTTPException(409, str(exc)) from None
        audit.note(request, f"{body.action} {case_id}")
        return {"case": service.case(reviewer, case_id).as_dict(), **result}

    return router
