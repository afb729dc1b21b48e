"""Console routes: sign-in, the queue, a case page, reviewer actions, language toggle.

Every page but sign-in needs a session; the reviewer's permissions are read from the database
on every request, so a change takes effect at once. Reading a case needs ``cases:read``; the
message text and media of a case are shown only with ``evidence:view``, checked on every case
page and every action, and each read of the vault is audited by the case library. Each form
POST carries the session's CSRF token (sign-in: a double-submit cookie, as there is no session
yet). Pages are rendered on the server; htmx (vendored, no CDN) boosts links and forms, and a
few lines of plain JavaScript reveal blurred media.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from trygg.ratelimit import RateLimit, TokenBuckets
from trygg.cases.cases import CaseError
from trygg.cases.permissions import CASES_ACT, EVIDENCE_VIEW, PermissionDenied, Reviewer
from trygg.cases.service import CaseService
from trygg.cases.vault import VaultError
from trygg.engine import Engine
from trygg.store.repository import Store
from trygg.store.tables import DecisionRow, EventRow
from trygg.web import auth, i18n, views

SESSION_COOKIE = "trygg_session"
LOGIN_CSRF_COOKIE = "trygg_login_csrf"
LANGUAGE_COOKIE = "trygg_lang"
#: Sign-in attempts per reviewer id: a burst of 10, then one every 30 seconds (Argon2 makes each
#: guess slow; this makes guessing one account's password hopeless).
SIGN_IN_LIMIT = RateLimit(rate=1 / 30, burst=10)
#: Most timeline events shown on one case page.
MAX_TIMELINE = 500
#: Actions a case in each status offers (the case library refuses anything else anyway).
ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "open": ("dismiss", "escalate", "restrict_account"),
    "escalated": ("prepare_report", "restrict_account", "dismiss"),
    "reported": ("restrict_account", "close"),
    "dismissed": ("close",),
    "closed": (),
}
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class ConsoleSettings:
    """``secure_cookies``: True always, False never, None when the request came over https
    (behind a proxy, run uvicorn with ``--proxy-headers``). ``language``: force ``en`` or
    ``sv`` (else the toggle, then Accept-Language). ``media_url``: where the console loads a
    media item from the platform, with ``{event_id}`` (trygg does not keep media)."""

    secure_cookies: bool | None = None
    language: str | None = None
    session_hours: float = 8.0
    media_url: str | None = None

    @classmethod
    def from_environment(cls) -> ConsoleSettings:
        secure = os.environ.get("TRYGG_CONSOLE_SECURE_COOKIES")
        return cls(
            secure_cookies=None if secure in (None, "", "auto") else secure.lower() in ("1", "true", "yes"),
            language=os.environ.get("TRYGG_CONSOLE_LANGUAGE") or None,
            media_url=os.environ.get("TRYGG_CONSOLE_MEDIA_URL") or None,
        )


def mount_console(app: FastAPI, store: Store, engine: Engine, lock: threading.Lock, service: CaseService, settings: ConsoleSettings) -> None:
    """Add the console's routes and static files to ``app`` under ``/console``."""
    from importlib import resources

    static = str(resources.files("trygg.web").joinpath("static"))
    app.mount("/console/static", StaticFiles(directory=static), name="console-static")
    app.include_router(_router(store, engine, lock, service, settings), prefix="/console", include_in_schema=False)


def _router(store: Store, engine: Engine, lock: threading.Lock, service: CaseService, settings: ConsoleSettings) -> APIRouter:
    router = APIRouter()
    database = store.engine
    templates = Environment(loader=PackageLoader("trygg.web", "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    lifetime = timedelta(hours=settings.session_hours)
    attempts = TokenBuckets(SIGN_IN_LIMIT)

    def language(request: Request) -> str:
        return i18n.choose(request.cookies.get(LANGUAGE_COOKIE), settings.language, request.headers.get("accept-language"))

    def secure(request: Request) -> bool:
        return settings.secure_cookies if settings.secure_cookies is not None else request.url.scheme == "https"

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        lang = language(request)
        html = templates.get_template(name).render(
            t=i18n.catalogue(lang), lang=lang, other_lang="sv" if lang == "en" else "en", path=request.url.path, **context
        )
        return HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)

    def signed_in(request: Request) -> auth.SignedIn | None:
        return auth.current(database, request.cookies.get(SESSION_COOKIE))

    def to_login() -> RedirectResponse:
        return RedirectResponse("/console/login", status_code=303)

    def refuse(request: Request, who: auth.SignedIn, key: str, status: int) -> HTMLResponse:
        return render(request, "error.html", status=status, who=who, message_key=key)

    @router.get("")
    @router.get("/")
    def home(request: Request) -> Response:
        return RedirectResponse("/console/queue" if signed_in(request) else "/console/login", status_code=303)

    @router.get("/login")
    def login_page(request: Request, failed: bool = False) -> Response:
        token = secrets.token_urlsafe(32)
        response = render(request, "login.html", status=401 if failed else 200, csrf=token, failed=failed, who=None)
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure(request), path="/console")
        return response

    @router.post("/login")
    def login(request: Request, reviewer_id: str = Form(..., max_length=256), password: str = Form(..., max_length=1024), csrf: str = Form("")) -> Response:
        if not auth.csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE), csrf):
            return render(request, "login.html", status=403, csrf="", failed=False, csrf_failed=True, who=None)
        wait = attempts.take(reviewer_id.strip())
        if wait:
            response = render(request, "login.html", status=429, csrf="", failed=False, throttled=True, who=None)
            response.headers["Retry-After"] = attempts.retry_after(wait)
            return response
        result = auth.sign_in(database, reviewer_id.strip(), password, lifetime)
        if result is None:
            return RedirectResponse("/console/login?failed=1", status_code=303)
        token, _ = result
        response = RedirectResponse("/console/queue", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, max_age=int(lifetime.total_seconds()), httponly=True, samesite="strict", secure=secure(request), path="/console")
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
        return response

    @router.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        who = signed_in(request)
        if who is not None and auth.csrf_matches(who.csrf_token, csrf):
            auth.sign_out(database, request.cookies.get(SESSION_COOKIE))
        response = to_login()
        response.delete_cookie(SESSION_COOKIE, path="/console")
        return response

    @router.get("/lang/{code}")
    def set_language(code: str, next: str = "/console/queue") -> Response:
        target = next if next.startswith("/console") and not next.startswith("//") else "/console/queue"
        response = RedirectResponse(target, status_code=303)
        if code in i18n.LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 86400, samesite="strict", path="/console")
        return response

    @router.get("/queue")
    def queue(request: Request) -> Response:
        who = signed_in(request)
        if who is None:
            return to_login()
        try:
            found = service.queue(who.reviewer, limit=200)
        except PermissionDenied:
            return refuse(request, who, "error_forbidden", 403)
        return render(request, "queue.html", who=who, cases=found)

    @router.get("/cases/{case_id}")
    def case_page(request: Request, case_id: str, done: bool = False) -> Response:
        who = signed_in(request)
        if who is None:
            return to_login()
        return _case(request, who, case_id, done=done)

    def _case(request: Request, who: auth.SignedIn, case_id: str, done: bool = False, error: str | None = None, status: int = 200) -> Response:
        try:
            case = service.case(who.reviewer, case_id)
            history = service.history(who.reviewer, case_id)
        except PermissionDenied:
            return refuse(request, who, "error_forbidden", 403)
        except CaseError:
            return refuse(request, who, "error_not_found", 404)
        may_view = who.reviewer.can(EVIDENCE_VIEW)
        evidence: dict[str, Any] = {}
        vault_error = None
        if may_view and case.escalated_at is not None:
            try:
                evidence = {item.event_id: item for item in service.evidence(who.reviewer, case_id)}
            except VaultError as exc:
                vault_error = str(exc)
        timeline = _timeline(database, case, evidence if may_view else {}, settings.media_url if may_view else None)
        return render(
            request,
            "case.html",
            status=status,
            who=who,
            case=case,
            history=history,
            timeline=timeline,
            may_view=may_view,
            has_text=any(entry["segments"] for entry in timeline),
            vault_error=vault_error,
            ages=views.age_pictures(store, engine, lock, [case.offender_id, *case.victims]),
            actions=_offered(who.reviewer, case.status),
            done=done,
            error=error,
        )

    @router.post("/cases/{case_id}/act")
    def act(request: Request, case_id: str, action: str = Form(..., max_length=32), note: str = Form("", max_length=8000), csrf: str = Form("")) -> Response:
        who = signed_in(request)
        if who is None:
            return to_login()
        if not auth.csrf_matches(who.csrf_token, csrf):
            return refuse(request, who, "error_csrf", 403)
        if not note.strip():
            return _case(request, who, case_id, error="error_note", status=400)
        reviewer = who.reviewer
        try:
            if action == "dismiss":
                service.dismiss(reviewer, case_id, note)
            elif action == "escalate":
                service.escalate(reviewer, case_id, note)
            elif action == "restrict_account":
                service.restrict_account(reviewer, case_id, note)
            elif action == "prepare_report":
                case = service.case(reviewer, case_id)
                pictures = views.age_pictures(store, engine, lock, [case.offender_id, *case.victims])
                service.prepare_report(reviewer, case_id, note, pictures)
            elif action == "close":
                service.close(reviewer, case_id, note)
            else:
                return _case(request, who, case_id, error="error_forbidden", status=400)
        except PermissionDenied:
            return _case(request, who, case_id, error="error_forbidden", status=403)
        except (CaseError, VaultError) as exc:
            return _case(request, who, case_id, error=str(exc), status=409)
        return RedirectResponse(f"/console/cases/{quote(case_id)}?done=1", status_code=303)

    return router


def _offered(reviewer: Reviewer, status: str) -> tuple[str, ...]:
    """The actions to offer: what the status allows and the reviewer may do (the case library
    checks again when one is submitted)."""
    if not reviewer.can(CASES_ACT):
        return ()
    return tuple(a for a in ACTIONS_BY_STATUS.get(status, ()) if a != "prepare_report" or reviewer.can(EVIDENCE_VIEW))


def _timeline(database: Any, case: Any, evidence: dict[str, Any], media_url: str | None) -> list[dict[str, Any]]:
    """The case's conversations as stored (who wrote when, with decisions), the message text
    where the vault holds it, cut into highlighted segments at the reasons' spans."""
    reasons_by_event: dict[str, list[dict[str, Any]]] = {}
    for reason in case.reasons:
        reasons_by_event.setdefault(str(reason.get("event_id")), []).append(dict(reason))
    with Session(database) as session:
        query = select(EventRow).where(or_(EventRow.conversation_id.in_(case.conversations), EventRow.event_id.in_(case.event_ids)))
        rows = list(session.execute(query.order_by(EventRow.sent_at, EventRow.ingested_at, EventRow.event_id).limit(MAX_TIMELINE)).scalars())
        decided = {
            row.event_id: row
            for row in session.execute(select(DecisionRow).where(DecisionRow.event_id.in_([r.event_id for r in rows]))).scalars()
        }
    entries = []
    for row in rows:
        decision = decided.get(row.event_id)
        reasons = reasons_by_event.get(row.event_id) or [dict(r) for r in (decision.reasons if decision else []) if r.get("event_id") == row.event_id]
        item = evidence.get(row.event_id)
        text = item.text if item is not None and item.text else None
        entries.append(
            {
                "event_id": row.event_id,
                "type": row.type,
                "sender_id": row.sender_id,
                "recipient_id": row.recipient_id,
                "sent_at": row.sent_at,
                "is_offender": row.sender_id == case.offender_id,
                "actions": list(decision.actions) if decision else [],
                "risk": decision.risk if decision else None,
                "reasons": reasons,
                "segments": views.highlight(text, reasons) if text else [],
                "media_src": media_url.format(event_id=quote(row.event_id)) if media_url and row.type == "media" else None,
                "hashes": dict(item.hashes) if item is not None else {},
            }
        )
    return entries
