"""Scanning a stream of events through the engine with persistence: the main job.

This is the adapter between the pure :class:`trygg.engine.Engine` and the store. Events are
taken in batches: ids already in the store are skipped (so a re-run resumes and never
double-counts), the state of conversations and users the batch touches is loaded before the
engine sees them, and everything the batch changed is written back in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from trygg.decision import Decision
from trygg.engine import Engine
from trygg.events import Event, EventError, ParsedLine, event_field
from trygg.store.repository import Store

#: Events per transaction. Each batch writes the state of every conversation it touched, so
#: larger batches write a busy conversation once for many of its messages: on a stream of short
#: conversations, 50,000 instead of 10,000 cut the state rows written by two thirds. A crash loses
#: at most one batch (seconds of traffic), which the next run processes again.
BATCH_SIZE = 50_000


@dataclass
class ScanReport:
    """What a scan did: counts, rejected lines, warnings, and the conversations it touched."""

    lines: int = 0
    processed: int = 0
    accounts: int = 0
    duplicates: int = 0
    errors: list[EventError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    conversation_ids: list[str] = field(default_factory=list)
    decisions: int = 0
    severe_decisions: int = 0


def _batches(parsed: Iterable[ParsedLine], size: int) -> Iterator[list[ParsedLine]]:
    iterator = iter(parsed)
    while batch := list(islice(iterator, size)):
        yield batch


#: Fields of any event type that name a user whose age picture the engine may need.
_USER_FIELDS = ("user_id", "sender_id", "recipient_id", "reporter_id", "reported_id", "other_id")


def scan(
    parsed: Iterable[ParsedLine],
    engine: Engine,
    store: Store | None = None,
    on_decision: Callable[[Decision], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ScanReport:
    """Run events through ``engine``, persisting to ``store`` when given; never raises on bad lines."""
    report = ScanReport()
    seen_conversations: dict[str, None] = {}
    loaded_conversations: set[str] = set()
    loaded_users: set[str] = set()
    alerted: set[str] = set()
    warnings_seen = len(engine.warnings)

    for batch in _batches(parsed, batch_size):
        report.lines += len(batch)
        events: list[Event] = []
        for line in batch:
            if line.error is not None:
                report.errors.append(line.error)
            elif line.event is not None:
                events.append(line.event)
                if cid := event_field(line.event, "conversation_id"):
                    seen_conversations.setdefault(cid, None)
        if store is not None:
            events = _skip_known(events, store, report)
            _load_state(events, engine, store, loaded_conversations, loaded_users)

        written_events: list[Event] = []
        decisions: list[Decision] = []
        for event in events:
            event_id = event_field(event, "event_id")
            duplicates_before = engine.duplicates
            decision = engine.process(event)
            if engine.duplicates > duplicates_before:
                report.duplicates += 1
                continue
            if event_id is None:  # account facts: idempotent, applied again on every run
                report.accounts += 1
            else:
                report.processed += 1
                written_events.append(event)
            if decision is not None:
                report.decisions += 1
                report.severe_decisions += int(decision.severe)
                decisions.append(decision)
                if on_decision is not None:
                    on_decision(decision)

        dirty_conversations, dirty_users = engine.drain_dirty()
        if store is not None:
            alerts = _new_alerts(engine, dirty_conversations, store, alerted)
            store.write_batch(
                written_events,
                decisions,
                {cid: engine.dump_conversation(cid) for cid in dirty_conversations},
                {uid: engine.dump_user(uid) for uid in dirty_users},
                alerts,
            )
        if on_progress is not None:
            on_progress(len(batch))

    if store is not None:
        # Conversations of this file that were complete before this run: load them for the summary.
        _load_conversations(list(seen_conversations), engine, store, loaded_conversations)
    report.warnings.extend(f"{event_id}: {message}" for event_id, message in engine.warnings[warnings_seen:])
    report.conversation_ids = list(seen_conversations)
    return report


def _skip_known(events: list[Event], store: Store, report: ScanReport) -> list[Event]:
    ids = [eid for e in events if (eid := e.__dict__.get("event_id"))]
    known = store.known_event_ids(ids) if ids else set()
    if not known:
        return events
    kept = [e for e in events if e.__dict__.get("event_id") not in known]
    report.duplicates += len(events) - len(kept)
    return kept


def _load_state(
    events: list[Event], engine: Engine, store: Store, loaded_conversations: set[str], loaded_users: set[str]
) -> None:
    conversation_ids = {cid for e in events if (cid := e.__dict__.get("conversation_id"))}
    _load_conversations(list(conversation_ids), engine, store, loaded_conversations)
    # Straight from each event's field dict (what event_field reads): this runs for every event.
    user_ids = {uid for e in events for uid in map(e.__dict__.get, _USER_FIELDS) if uid} - loaded_users
    if user_ids:
        for uid, picture in store.load_users(user_ids).items():
            engine.load_user(uid, picture)
        loaded_users.update(user_ids)


def _load_conversations(conversation_ids: list[str], engine: Engine, store: Store, loaded: set[str]) -> None:
    wanted = [cid for cid in conversation_ids if cid not in loaded]
    if not wanted:
        return
    for cid, state in store.load_conversations(wanted).items():
        engine.load_conversation(cid, state)
    loaded.update(wanted)


def _new_alerts(engine: Engine, conversation_ids: set[str], store: Store, alerted: set[str]) -> list[dict]:
    """Alert rows for conversations flagged for the first time in this batch."""
    flagged = {}
    for cid in conversation_ids:
        if cid in alerted:
            continue
        summary = engine.summary(cid)
        if summary.get("flagged"):
            flagged[cid] = summary
    if not flagged:
        return []
    already = store.alerted_conversations(flagged)
    alerted.update(flagged)
    return [
        {
            "conversation_id": cid,
            "first_alert_event_id": summary["first_alert_event_id"],
            "label_guess": summary["label_guess"],
            "risk": summary["risk"],
            "offender_id": summary.get("offender_id"),
            "reasons": list(summary.get("reasons", []))[:20],
        }
        for cid, summary in flagged.items()
        if cid not in already
    ]
