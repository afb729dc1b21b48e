"""The HTTP API: the same events as the JSON Lines files, decisions back at once.

Every call but ``/healthz`` needs an API key (``Authorization: Bearer trygg_...``) holding the
scope of the route; every authenticated call is written to the audit log. Bodies are size-capped
before parsing. A batch with bad events keeps the good ones: each bad event is reported by its
index and field, exactly as the file reader reports lines.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from trygg.api import audit
from trygg.api.keys import InvalidKey, Principal, authenticate
from trygg.compose import Settings, build_pipeline
from trygg.engine import Engine
from trygg.events import Event, ParsedLine, parse_event, StrictModeError
from trygg.scan import scan
from trygg.sinks import CollectingSink, Sink
from trygg.store.base import create_schema
from trygg.store.repository import Store

#: Largest request body accepted (a batch of events, base64 media included).
MAX_BODY_BYTES = 4 * 1024 * 1024
#: Most events in one request.
MAX_BATCH = 1000


def create_app(
    store: Store,
    engine: Engine | None = None,
    prepare: Callable[[Event], Event] | None = None,
    sinks: Sequence[Sink] = (),
) -> FastAPI:
    """Build the app around one store and one in-process engine (serialised by a lock);
    ``prepare`` runs on each event before the engine (the media ingest, see ``trygg.media_wiring``),
    ``sinks`` get every batch after it is stored (review cases), besides the caller's answer."""
    create_schema(store.engine)  # the API's own tables (keys, audit), imported above
    if engine is None:
        pipeline = build_pipeline(Settings(media_dir=None), store=store)  # clients send data or pdq, never server paths
        engine, prepare, sinks = pipeline.engine, prepare or pipeline.prepare, pipeline.sinks
    lock = threading.Lock()
    app = FastAPI(title="trygg", version="1", summary="Child-safety engine: events in, decisions out.")

    def principal(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            audit.record(store.engine, None, request.method, request.url.path, 401, "missing key")
            raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>'", headers={"WWW-Authenticate": "Bearer"})
        try:
            found = authenticate(store.engine, header[7:].strip())
        except InvalidKey as exc:
            audit.record(store.engine, None, request.method, request.url.path, 401, str(exc))
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
        request.state.principal = found
        return found

    def require(scope: str) -> Any:
        def check(request: Request, who: Principal = Depends(principal)) -> Principal:
            if scope not in who.scopes:
                audit.record(store.engine, who.key_id, request.method, request.url.path, 403, f"needs {scope}")
                raise HTTPException(403, f"this key lacks the scope '{scope}'")
            return who

        return check

    async def read_json(request: Request) -> Any:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise HTTPException(413, f"body is {declared} bytes; limit {MAX_BODY_BYTES}")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise HTTPException(413, f"body exceeds {MAX_BODY_BYTES} bytes")
        try:
            return json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise HTTPException(400, "body is not valid UTF-8") from None
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/events")
    async def post_events(request: Request, who: Principal = Depends(require("events:write"))) -> JSONResponse:
        """One event object or a list of them; returns decisions and per-event errors."""
        payload = await read_json(request)
        items = payload if isinstance(payload, list) else [payload]
        if len(items) > MAX_BATCH:
            raise HTTPException(413, f"{len(items)} events in one request; limit {MAX_BATCH}")
        parsed = []
        for index, item in enumerate(items):
            try:
                parsed.append(ParsedLine(index, event=parse_event(item, index)))
            except StrictModeError as exc:
                parsed.append(ParsedLine(index, error=exc.error))
        answer = CollectingSink()
        with lock:
            report = scan(parsed, engine, store, sinks=[answer, *sinks], prepare=prepare)
        decisions = [d.as_dict() for d in answer.decisions]
        errors = [{"index": e.line, "field": e.field, "message": e.message} for e in report.errors]
        status = 200 if not errors else (207 if decisions or report.processed else 422)
        audit.record(store.engine, who.key_id, "POST", "/v1/events", status, f"{report.processed} processed, {len(errors)} rejected")
        return JSONResponse(
            {"decisions": decisions, "errors": errors, "duplicates": report.duplicates, "warnings": report.warnings},
            status_code=status,
        )

    @app.get("/v1/conversations/{conversation_id}")
    def get_conversation(conversation_id: str, who: Principal = Depends(require("conversations:read"))) -> dict[str, Any]:
        with lock:
            if conversation_id not in engine.conversations:
                stored = store.load_conversations([conversation_id])
                if not stored:
                    audit.record(store.engine, who.key_id, "GET", "/v1/conversations", 404, conversation_id)
                    raise HTTPException(404, f"no conversation {conversation_id!r}")
                engine.load_conversation(conversation_id, stored[conversation_id])
            summary = engine.summary(conversation_id)
        audit.record(store.engine, who.key_id, "GET", "/v1/conversations", 200, conversation_id)
        return summary

    @app.post("/v1/take-it-down", status_code=201)
    async def take_it_down(request: Request, who: Principal = Depends(require("banks:submit"))) -> dict[str, Any]:
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
            audit.record(store.engine, who.key_id, "POST", "/v1/take-it-down", 422, str(exc))
            raise HTTPException(422, str(exc)) from None
        audit.record(store.engine, who.key_id, "POST", "/v1/take-it-down", 201, f"entry {entry_id}")
        return {"bank": "take_it_down", "entry_id": entry_id}

    return app
