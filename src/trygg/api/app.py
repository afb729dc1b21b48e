"""The HTTP API: the same events as the JSON Lines files, decisions back at once.

Every call but ``/healthz`` needs an API key (``Authorization: Bearer trygg_...``) holding the
scope of the route (docs/api.md, "Scopes"); each key is rate limited by its own token bucket;
every authenticated call is written to the audit log. Bodies are size-capped before parsing. A
batch with bad events keeps the good ones: each bad field of each bad event is reported by the
event's index, exactly as the file reader reports lines. Decisions that need a person open or
update cases through :class:`trygg.cases.sink.CaseSink`; the review console is mounted
under ``/console`` (:mod:`trygg.web`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import Field, TypeAdapter, ValidationError

import trygg.cases.tables  # noqa: F401  (registers the case tables on Base)
from trygg.api import audit
from trygg.cases.sink import CaseSink
from trygg.api.keys import InvalidKey, Principal, authenticate
from trygg.ratelimit import RateLimit, TokenBuckets
from trygg.api.review_routes import review_router
from trygg.api.webhooks import WebhookSettings, WebhookWorker
from trygg.cases.service import CaseService
from trygg.cases.vault import Keyring
from trygg.compose import Settings, build_pipeline
from trygg.engine import Engine
from trygg.events import Event, EventError, ParsedLine, StrictModeError, parse_event
from trygg.scan import ScanReport, scan
from trygg.sinks import CollectingSink
from trygg.store.schema import create_schema
from trygg.store.repository import Store

#: Largest request body accepted (a batch of events, base64 media included).
MAX_BODY_BYTES = 4 * 1024 * 1024
#: Most events in one request.
MAX_BATCH = 1000

_EVENT_SCHEMA = TypeAdapter(Event)
_BATCH_SCHEMA = TypeAdapter(Annotated[list[Event], Field(max_length=MAX_BATCH)])


def field_errors(item: object, first: EventError) -> list[EventError]:
    """Every bad field of one rejected event. The reader names the first (``first``); a client
    fixing its integration wants them all at once. A missing or unknown type, or a non-object,
    has only that one error."""
    if not isinstance(item, dict) or first.field in ("type", "<line>"):
        return [first]
    try:
        _EVENT_SCHEMA.validate_python(item)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = [str(part) for part in err["loc"]]
            if loc and loc[0] == item.get("type"):
                loc = loc[1:]
            errors.append(EventError(first.line, ".".join(loc) or "<event>", err["msg"].removeprefix("Value error, ")))
        return errors or [first]
    return [first]


def create_app(
    store: Store,
    engine: Engine | None = None,
    *,
    keyring: Keyring | None = None,
    rate_limit: RateLimit | None = None,
    webhooks: WebhookSettings | None = None,
    console: Any = None,
    prepare: Callable[[Event], Event] | None = None,
) -> FastAPI:
    """Build the app around one store and one in-process engine (serialised by a lock).

    ``prepare`` runs on each event before the engine (the media ingest, see
    ``trygg.media_wiring``); without an engine, the composition root builds both. ``keyring``
    opens the evidence vault (escalation, evidence views, reports); ``rate_limit`` is per key; ``webhooks`` turns on decision webhooks and their delivery thread; ``console``
    is a :class:`trygg.web.ConsoleSettings` (default settings when None; ``False`` leaves the
    console out).
    """
    if engine is None:
        pipeline = build_pipeline(Settings(media_dir=None), store=store)  # clients send data or pdq, never server paths
        engine, prepare = pipeline.engine, prepare or pipeline.prepare
    lock = threading.Lock()
    buckets = TokenBuckets(rate_limit or RateLimit())
    service = CaseService(store.engine, keyring=keyring)
    worker = WebhookWorker(store.engine, webhooks) if webhooks is not None else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(title="trygg", version="1", summary="Child-safety engine: events in, decisions out.", lifespan=lifespan)
    app.state.store, app.state.engine, app.state.lock, app.state.service = store, engine, lock, service

    def ingest(parsed: list[ParsedLine]) -> tuple[ScanReport, list[dict[str, Any]]]:
        """Decide, persist, and file cases: the engine's output path for API traffic."""
        answer = CollectingSink()
        filed = CaseSink(store.engine, engine, decision_webhooks=webhooks is not None)
        with lock:
            # The app's engine is the only writer of its store: what it holds in memory is current.
            report = scan(parsed, engine, store, sinks=[answer, filed], prepare=prepare, resident=True)
        answers = []
        for decision in answer.decisions:
            out = decision.as_dict()
            if decision.event_id in filed.linked:
                out["case_id"] = filed.linked[decision.event_id]
            answers.append(out)
        return report, answers

    app.state.ingest = ingest

    @app.middleware("http")
    async def cap_declared_size(request: Request, call_next: Any) -> Any:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return JSONResponse({"detail": f"body is {declared} bytes; limit {MAX_BODY_BYTES}"}, status_code=413)
        return await call_next(request)

    @app.middleware("http")
    async def refuse_nul_in_the_url(request: Request, call_next: Any) -> Any:
        """No identifier holds a NUL (``trygg.events.no_nul``), and PostgreSQL could not even
        look one up: a path or query with ``%00`` is a bad request on every database."""
        if "\x00" in request.scope["path"] or b"%00" in request.scope["query_string"]:
            return JSONResponse({"detail": "the URL holds a NUL character (%00)"}, status_code=400)
        return await call_next(request)

    @app.middleware("http")
    async def audit_calls(request: Request, call_next: Any) -> Any:
        """One audit row per API call: key, method, route, status and a short note the handler
        left (``audit.note``); never a body. Middleware, so no route can forget it."""
        response = await call_next(request)
        if request.url.path.startswith("/v1/"):
            who = getattr(request.state, "principal", None)
            route = getattr(request.scope.get("route"), "path", request.url.path)
            detail = getattr(request.state, "audit_detail", None)
            await run_in_threadpool(audit.record, store.engine, who.key_id if who else None, request.method, route, response.status_code, detail)
        return response

    def principal(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            audit.note(request, "missing key")
            raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>'", headers={"WWW-Authenticate": "Bearer"})
        try:
            found = authenticate(store.engine, header[7:].strip())
        except InvalidKey as exc:
            audit.note(request, str(exc))
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
        request.state.principal = found
        wait = buckets.take(found.key_id)
        if wait:
            audit.note(request, "rate limited")
            raise HTTPException(429, "rate limit exceeded for this key", headers={"Retry-After": buckets.retry_after(wait)})
        return found

    def require(scope: str, broad: str) -> Any:
        def check(request: Request, who: Principal = Depends(principal)) -> Principal:
            if not who.allows(scope):
                audit.note(request, f"needs {scope}")
                raise HTTPException(403, f"this key lacks the scope '{broad}' (or '{scope}')")
            return who

        return check

    async def read_body(request: Request) -> bytes:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise HTTPException(413, f"body exceeds {MAX_BODY_BYTES} bytes")
        return bytes(body)

    def decode_json(body: bytes) -> Any:
        try:
            return json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise HTTPException(400, "body is not valid UTF-8") from None
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None

    async def read_json(request: Request) -> Any:
        return decode_json(await read_body(request))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    events_body = {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/Event"},
                            {"type": "array", "items": {"$ref": "#/components/schemas/Event"}, "maxItems": MAX_BATCH},
                        ]
                    }
                }
            },
        }
    }

    @app.post("/v1/events", openapi_extra=events_body)
    async def post_events(request: Request, who: Principal = Depends(require("events:write", "ingest"))) -> Response:
        """One event object or a list of them; returns decisions and per-field errors.

        Idempotent by ``event_id``: a re-sent event is counted in ``duplicates`` and changes
        nothing. Decisions that need a person carry the ``case_id`` they were filed under.
        """
        body = await read_body(request)
        return await run_in_threadpool(handle_events, body, request)

    def handle_events(body: bytes, request: Request) -> Response:
        parsed, rejected = parse_events(body)
        report, answers = ingest(parsed)
        errors = [{"index": e.line, "field": e.field, "message": e.message} for e in rejected]
        status = 200 if not errors else (207 if report.processed or report.accounts or report.duplicates else 422)
        audit.note(request, f"{report.processed} processed, {len(rejected)} errors")
        content = {"decisions": answers, "errors": errors, "duplicates": report.duplicates, "warnings": report.warnings}
        return Response(orjson.dumps(content), status_code=status, media_type="application/json")

    def parse_events(body: bytes) -> tuple[list[ParsedLine], list[EventError]]:
        """The body's events, and every bad field of the bad ones.

        Fast path: a batch that is entirely valid is parsed and validated by pydantic in one
        pass over the bytes. Anything else goes item by item, which names each error."""
        if body.lstrip()[:1] == b"[":
            try:
                return [ParsedLine(i, event=e) for i, e in enumerate(_BATCH_SCHEMA.validate_json(body))], []
            except ValidationError:
                pass
        payload = decode_json(body)
        items = payload if isinstance(payload, list) else [payload]
        if len(items) > MAX_BATCH:
            raise HTTPException(413, f"{len(items)} events in one request; limit {MAX_BATCH}")
        parsed: list[ParsedLine] = []
        rejected: list[EventError] = []
        for index, item in enumerate(items):
            try:
                parsed.append(ParsedLine(index, event=parse_event(item, index)))
            except StrictModeError as exc:
                rejected.extend(field_errors(item, exc.error))
        return parsed, rejected

    @app.get("/v1/conversations/{conversation_id}")
    def get_conversation(
        request: Request, conversation_id: str, who: Principal = Depends(require("conversations:read", "review"))
    ) -> dict[str, Any]:
        """The conversation's risk: flagged, label guess, risk, offender guess, reasons."""
        with lock:
            if conversation_id not in engine.conversations:
                stored = store.load_conversations([conversation_id])
                if not stored:
                    audit.note(request, conversation_id)
                    raise HTTPException(404, f"no conversation {conversation_id!r}")
                engine.load_conversation(conversation_id, stored[conversation_id])
            summary = engine.summary(conversation_id)
        audit.note(request, conversation_id)
        return summary

    @app.post("/v1/take-it-down", status_code=201)
    async def take_it_down(request: Request, who: Principal = Depends(require("banks:submit", "ingest"))) -> dict[str, Any]:
        """A minor's own image hash, computed on their device (the image never comes here).

        No account or name is taken: only the hashes, which are then matched like any bank
        entry with the action ``block``.
        """
        payload = await read_json(request)
        if not isinstance(payload, dict):
            raise HTTPException(422, "expected a JSON object with 'pdq', 'md5' and/or 'sha256'")
        unknown = sorted(set(payload) - {"pdq", "md5", "sha256", "quality"})
        if unknown:
            raise HTTPException(422, f"unknown field(s) {', '.join(unknown)}: only hashes are accepted")
        try:
            from trygg.media.banks import BankError, BankStore
        except ImportError as exc:
            raise HTTPException(501, f"media support is not installed (the 'media' extra): {exc}") from None
        try:
            entry_id = BankStore(engine=store.engine).take_it_down(**payload)
        except (BankError, TypeError, ValueError) as exc:
            audit.note(request, str(exc))
            raise HTTPException(422, str(exc)) from None
        audit.note(request, f"entry {entry_id}")
        return {"bank": "take_it_down", "entry_id": entry_id}

    app.include_router(review_router(store, engine, lock, service, require))
    if console is not False:
        from trygg.web import ConsoleSettings, mount_console

        mount_console(app, store, engine, lock, service, console or ConsoleSettings.from_environment())
    create_schema(store.engine)  # after the console's import registered its tables
    _publish_event_schema(app)
    return app


def _publish_event_schema(app: FastAPI) -> None:
    """Put the event format's JSON Schema into the OpenAPI components, so ``/v1/events``
    documents (and schema-driven fuzzers generate) real events."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        event = _EVENT_SCHEMA.json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(event.pop("$defs", {}))
        components["Event"] = event
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
