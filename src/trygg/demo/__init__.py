"""``trygg demo``: the main job end to end on a few conversations shipped in the package.

The conversations are written for this project (fictional, non-explicit): an adult posing as a
teen grooming a 13-year-old (English), a sextortion attempt (Swedish), and two benign chats with
surface cues that a naive filter would flag (a coach's meeting, a surprise party). The file ends
with a malformed line and a re-sent event, to show that both are reported and lose nothing.
Then the protective policy on four cases (trygg.demo.protection): a contact gate, a blocked ad,
an age proof accepted and one rejected.
"""

from __future__ import annotations

import tempfile
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from trygg.decision import Decision
from trygg.events import MessageEvent, read_events

DEMO_FILE = "conversations.jsonl"


def demo_events_path() -> Path:
    return Path(str(resources.files("trygg.demo").joinpath(DEMO_FILE)))


def run_demo(db_url: str | None, console: Console) -> None:
    """Scan the demo conversations into SQLite and explain every alert with its evidence."""
    from trygg.compose import build_engine
    from trygg.scan import scan
    from trygg.sinks import CollectingSink
    from trygg.store.repository import Store

    path = demo_events_path()
    texts = {p.event.event_id: p.event.text for p in read_events(path) if isinstance(p.event, MessageEvent)}
    with tempfile.TemporaryDirectory(prefix="trygg-demo-") as folder:
        url = db_url or f"sqlite:///{folder}/demo.db"
        store = Store(url)
        engine = build_engine(store=store)
        collected = CollectingSink()
        report = scan(read_events(path), engine, store, sinks=[collected])
        decisions = collected.decisions
        counts = store.counts()

    console.print(f"[bold]trygg demo[/bold]: {path.name}, database {url}")
    for error in report.errors:
        console.print(f"  [yellow]rejected[/yellow] line {error.line}, field '{error.field}': {error.message}")
    console.print(f"  re-sent events skipped: {report.duplicates}")

    table = Table(title="conversations")
    for column in ("conversation", "flagged", "label guess", "risk", "offender", "first alert"):
        table.add_column(column)
    for cid in report.conversation_ids:
        s = engine.summary(cid)
        table.add_row(
            cid,
            "[red]yes[/red]" if s["flagged"] else "no",
            str(s["label_guess"]),
            f"{s['risk']:.2f}",
            str(s["offender_id"] or "-"),
            str(s["first_alert_event_id"] or "-"),
        )
    console.print(table)

    console.print("[bold]decisions other than allow, with the evidence in the words the user wrote[/bold]")
    for decision in decisions:
        if decision.actions == ("allow",):
            continue
        console.print(f"{decision.event_id}: {', '.join(decision.actions)} (risk {decision.risk:.2f}, {decision.policy})")
        for reason in decision.reasons:
            console.print(Text("    ") + _evidence(reason, texts))
    console.print(
        f"stored: {counts['events']} events, {counts['decisions']} decisions, "
        f"{counts['conversations']} conversation states, {counts['alerts']} alerts"
    )
    from trygg.demo.protection import run_protection_demo

    run_protection_demo(console)


def _evidence(reason: dict, texts: dict[str, str]) -> Text:
    line = Text(f"{reason.get('signal')} {float(reason.get('score', 0)):.2f}")
    text = texts.get(str(reason.get("event_id")))
    span = reason.get("span")
    if text and span:
        start, end = int(span[0]), int(span[1])
        line.append("  «")
        line.append(text[max(0, start - 20) : start])
        line.append(text[start:end], style="bold red")
        line.append(text[end : end + 20])
        line.append("»")
    elif reason.get("value") is not None:
        line.append(f"  ({reason['value']})")
    return line
