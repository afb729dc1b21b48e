"""``trygg demo --serve``: the service on SQLite with the demo conversations loaded.

The demo conversations go through the same output path as API traffic (decide, persist, file
cases). The English grooming case is then escalated the way a platform would, supplying its
copy of the messages, so the console has evidence to highlight; a harmless placeholder image
stands in for a media message, to show the blurred, click-to-reveal media view. One specialist
reviewer (with the evidence permission) and one API key are created with random secrets,
printed once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trygg.demo import demo_events_path
from trygg.events import MessageEvent, ParsedLine, parse_event, read_events

DEMO_REVIEWER = "demo-specialist"
#: The demo conversation escalated with the platform's copy of its messages.
ESCALATED_CONVERSATION = "demo-grooming-en"
MEDIA_EVENT = {
    "type": "media",
    "event_id": "demo-grooming-en-media",
    "conversation_id": ESCALATED_CONVERSATION,
    "sender_id": "demo-alex",
    "recipient_id": "demo-maja",
    "pdq": "a5" * 32,
    "sent_at": "2026-05-04T16:30:00Z",
}


@dataclass(frozen=True)
class DemoService:
    app: Any
    database_url: str
    reviewer_id: str
    password: str
    api_key: str


def build_demo(folder: Path, database_url: str | None = None) -> DemoService:
    """A demo app over a fresh database (``database_url``, else SQLite in ``folder``), data
    loaded, accounts made."""
    from trygg.api.app import create_app
    from trygg.api.keys import create_key
    from trygg.cases.permissions import Reviewer
    from trygg.cases.vault import EvidenceItem, Keyring
    from trygg.engine import Engine
    from trygg.store.repository import Store
    from trygg.web import ConsoleSettings
    from trygg.web.auth import create_reviewer

    url = database_url or f"sqlite:///{folder}/demo.db"
    store = Store(url)
    settings = ConsoleSettings(media_url="/console/static/demo-media.svg?event={event_id}")
    app = create_app(store, Engine(), keyring=Keyring.generate(), console=settings)
    path = demo_events_path()
    lines = list(read_events(path))
    lines.append(ParsedLine(len(lines) + 1, event=parse_event(MEDIA_EVENT)))
    app.state.ingest(lines)

    service = app.state.service
    platform = Reviewer("demo-platform", frozenset({"admin"}), "the demo platform")
    messages = {
        p.event.event_id: p.event for p in read_events(path) if isinstance(p.event, MessageEvent) and p.event.conversation_id == ESCALATED_CONVERSATION
    }
    for case in service.list(platform, conversation_id=ESCALATED_CONVERSATION):
        evidence = [
            EvidenceItem(
                event_id=m.event_id,
                conversation_id=m.conversation_id,
                sender_id=m.sender_id,
                recipient_id=m.recipient_id,
                sent_at=m.sent_at.isoformat() if m.sent_at else None,
                text=m.text,
            )
            for m in messages.values()
        ]
        service.escalate(platform, case.case_id, "demo: the platform escalated this case with its copy of the messages", evidence)

    password = secrets.token_urlsafe(12)
    create_reviewer(store.engine, "demo", DEMO_REVIEWER, ["specialist"], password, name="Demo specialist")
    api_key = create_key(store.engine, "demo", ["ingest", "review"])
    return DemoService(app, url, DEMO_REVIEWER, password, api_key)


def serve_demo(host: str, port: int, console: Any) -> None:
    """Build the demo in a temporary folder, print how to use it, and serve until stopped."""
    import tempfile

    import uvicorn

    with tempfile.TemporaryDirectory(prefix="trygg-demo-") as folder:
        demo = build_demo(Path(folder))
        lines = [
            f"[bold]trygg demo service[/bold] on {demo.database_url}",
            f"  review console: http://{host}:{port}/console/",
            f"  reviewer: {demo.reviewer_id}   password: {demo.password}",
            f"  API: http://{host}:{port}/openapi.json   key (ingest, review): {demo.api_key}",
            "  stop with Ctrl-C; the database is deleted then.",
        ]
        for line in lines:
            console.print(line, soft_wrap=True)
        uvicorn.run(demo.app, host=host, port=port, log_level="warning")
