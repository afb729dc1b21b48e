"""Scanning a stream of events through the engine with persistence: the main job.

This is the adapter between the pure :class:`trygg.engine.Engine` and the store. Events are
taken in batches: ids already in the store are skipped (so a re-run resumes and never
double-counts), the state of conversations and users the batch touches is loaded before the
engine sees them, and everything the batch changed is written back in one transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import islice

import orjson

from trygg.decision import Decision
from trygg.engine import Engine
from trygg.events import Event, EventError, ParsedLine, event_field
from trygg.sinks import Batch, OutboxSink, Sink
from trygg.store.repository import Store

#: Events per transaction. Each batch writes the state of every conversation it touched, so
#: larger batches write a busy conversation once for many of its messages: on a stream of short
#: conversations, 50,000 instead of 10,000 cut the state rows written by two thirds. A crash loses
#: at most one batch (seconds of traffic), which the next run processes again.
BATCH_SIZE = int(os.environ.get("TRYGG_SCAN_BATCH_SIZE") or 50_000)


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


class _Loaded:
    """Ids whose state the engine has: loaded by this decider, or (resident) held by the engine."""

    __slots__ = ("held", "loaded")

    def __init__(self, held: Mapping[str, object]) -> None:
        self.held = held
        self.loaded: set[str] = set()

    def __contains__(self, key: object) -> bool:
        return key in self.loaded or key in self.held

    def __iter__(self) -> Iterator[str]:
        return iter(self.loaded)

    def update(self, ids: Iterable[str]) -> None:
        self.loaded.update(ids)

    def clear(self) -> None:
        self.loaded.clear()


def _batches(parsed: Iterable[ParsedLine], size: int) -> Iterator[list[ParsedLine]]:
    iterator = iter(parsed)
    while batch := list(islice(iterator, size)):
        yield batch


#: Fields of any event type that name a user whose age picture the engine may need.
_USER_FIELDS = ("user_id", "sender_id", "recipient_id", "reporter_id", "reported_id", "other_id", "blocker_id", "blocked_id")


def scan(
    parsed: Iterable[ParsedLine],
    engine: Engine,
    store: Store | None = None,
    sinks: Sequence[Sink] = (),
    on_progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
    prepare: Callable[[Event], Event] | None = None,
    resident: bool = False,
) -> ScanReport:
    """Run events through ``engine``, persisting to ``store`` when given, then giving each
    batch's decisions and new alerts to every sink; never raises on bad lines.

    With a store, :class:`~trygg.sinks.OutboxSink` outputs are exactly-once: each batch's bytes
    commit with the batch and are appended after, and a restart first repairs the output from
    what the store committed. On a shared database (PostgreSQL) each batch locks its
    conversations and users and reloads their state under the lock, so workers scanning the
    same conversations at once lose and repeat nothing.

    ``prepare`` runs on each event just before the engine: the edge step that does the I/O the
    engine must not (the media ingest reads and hashes media, see ``trygg.media_wiring``).

    ``resident``: the engine is a long-lived one that wrote everything it holds (the API
    server's), so the conversations and users it has in memory are current and only the ones
    it lacks are loaded from the store; without it, each call reloads what its events touch.
    """
    report = ScanReport()
    outboxes = [sink for sink in sinks if isinstance(sink, OutboxSink)] if store is not None else []
    for sink in outboxes:
        sink.recover(store.sink_position(sink.key))  # type: ignore[union-attr]
    plain_sinks = [sink for sink in sinks if sink not in outboxes]
    decider = BatchDecider(engine, store, prepare=prepare, resident=resident)
    seen_conversations: dict[str, None] = {}
    warnings_seen = len(engine.warnings)

    for batch in _batches(parsed, batch_size):
        report.lines += len(batch)
        events = _valid_events(batch, report, seen_conversations)
        with store.locks.holding(*_parties(events)) if decider.shared else nullcontext():  # type: ignore[union-attr]
            outcome = decider.decide(events, report)
            write_outcome(outcome, store, outboxes, plain_sinks)
        if on_progress is not None:
            on_progress(len(batch))

    decider.load_for_summary(list(seen_conversations))
    report.warnings.extend(f"{event_id}: {message}" for event_id, message in engine.warnings[warnings_seen:])
    report.conversation_ids = list(seen_conversations)
    return report


def _valid_events(batch: list[ParsedLine], report: ScanReport, seen_conversations: dict[str, None]) -> list[Event]:
    """The batch's events, its rejected lines counted in ``report``."""
    events: list[Event] = []
    for line in batch:
        if line.error is not None:
            report.errors.append(line.error)
        elif line.event is not None:
            events.append(line.event)
            if cid := event_field(line.event, "conversation_id"):
                seen_conversations.setdefault(cid, None)
    return events


@dataclass
class BatchOutcome:
    """What one batch decided and changed: what a store writes in one transaction and the
    sinks are given. Plain data, so a cluster worker can hand it to the process that writes."""

    events: list[Event] = field(default_factory=list)
    #: Each decision with the event it answers (sinks such as cases need the event's parties).
    decided: list[tuple[Event, Decision]] = field(default_factory=list)
    conversations: dict[str, dict] = field(default_factory=dict)
    users: dict[str, dict] = field(default_factory=dict)
    alerts: list[dict] = field(default_factory=list)
    media_hashes: list[dict] = field(default_factory=list)

    def extend(self, other: BatchOutcome) -> None:
        """Add another partition's outcome of the same round (partitions own disjoint
        conversations; a user seen in several keeps the last partition's picture)."""
        self.events += other.events
        self.decided += other.decided
        self.conversations.update(other.conversations)
        self.users.update(other.users)
        self.alerts += other.alerts
        self.media_hashes += other.media_hashes

    @property
    def decisions(self) -> list[Decision]:
        return [decision for _event, decision in self.decided]


class BatchDecider:
    """Runs batches through one engine with the store's memory: skips stored events, loads the
    state a batch needs, decides, and collects what changed (writing is :func:`write_outcome`)."""

    def __init__(
        self,
        engine: Engine,
        store: Store | None,
        owns_partition: bool = False,
        prepare: Callable[[Event], Event] | None = None,
        resident: bool = False,
    ) -> None:
        """``owns_partition``: this decider alone handles its conversations (a cluster actor
        given a partition), so what it holds is newer than the store, never older.
        ``prepare`` and ``resident``: see :func:`scan`."""
        self.engine = engine
        self.store = store
        self.prepare = prepare
        #: Other workers may write the same rows (PostgreSQL): reload what each batch touches.
        self.shared = store is not None and store.shared and not owns_partition
        keep = resident and not self.shared
        self._loaded_conversations = _Loaded(engine.conversations if keep else {})
        self._loaded_users = _Loaded(engine.ages if keep else {})
        self._alerted: set[str] = set()

    def decide(self, events: list[Event], report: ScanReport) -> BatchOutcome:
        engine, store = self.engine, self.store
        if store is not None:
            if self.shared:  # another worker may have changed any of them since this one loaded it
                self._loaded_conversations.clear()
                self._loaded_users.clear()
            events = _skip_known(events, store, report)
            _load_state(events, engine, store, self._loaded_conversations, self._loaded_users)
        outcome = BatchOutcome()
        prepare = self.prepare
        for event in events:
            event_id = event_field(event, "event_id")
            if prepare is not None:
                event = prepare(event)
            decision = engine.process(event)
            if event_id is not None and engine.is_duplicate(event_id):
                report.duplicates += 1
                continue
            if event_id is None:  # account facts: idempotent, applied again on every run
                report.accounts += 1
            else:
                report.processed += 1
                outcome.events.append(event)
            if decision is not None:
                report.decisions += 1
                report.severe_decisions += int(decision.severe)
                outcome.decided.append((event, decision))
        dirty_conversations, dirty_users = engine.drain_dirty()
        outcome.alerts = _new_alerts(engine, dirty_conversations, store, self._alerted)
        outcome.conversations = {cid: engine.dump_conversation(cid) for cid in dirty_conversations}
        outcome.users = {uid: engine.dump_user(uid) for uid in dirty_users}
        outcome.media_hashes = _media_hashes(outcome.events)
        return outcome

    def load_for_summary(self, conversation_ids: list[str]) -> None:
        """Load the conversations a summary names that no batch loaded (complete before this
        run), all of them on a shared database, where other workers may have moved them on."""
        if self.store is None:
            return
        if self.shared:
            self._loaded_conversations.clear()
        _load_conversations(conversation_ids, self.engine, self.store, self._loaded_conversations)


def write_outcome(outcome: BatchOutcome, store: Store | None, outboxes: Sequence[OutboxSink], sinks: Sequence[Sink]) -> None:
    """Persist a batch in one transaction (its exactly-once outputs' bytes with it), then
    append those outputs and hand the batch to the other sinks."""
    payloads = {sink.key: sink.render(outcome.decisions, outcome.alerts) for sink in outboxes}

    def persist(outbox: dict[str, tuple[int, bytes]]) -> None:
        store.write_batch(  # type: ignore[union-attr]
            outcome.events,
            outcome.decisions,
            outcome.conversations,
            outcome.users,
            outcome.alerts,
            outbox=outbox,
            media_hashes=outcome.media_hashes,
        )

    commit_outputs(persist if store is not None else None, outboxes, payloads, sinks, lambda: Batch(outcome.decided, outcome.alerts))


def commit_outputs(
    persist: Callable[[dict[str, tuple[int, bytes]]], None] | None,
    outboxes: Sequence[OutboxSink],
    payloads: Mapping[str, bytes],
    sinks: Sequence[Sink],
    batch: Callable[[], Batch],
) -> None:
    """The order every runner ends a batch in: ``persist`` commits the batch with each
    exactly-once output's bytes (``payloads``) and where the output stands with them, then the
    outputs are appended, then the other sinks get the ``batch`` (made only when there are any)."""
    outbox = {sink.key: (sink.end + len(payloads[sink.key]), payloads[sink.key]) for sink in outboxes}
    if persist is not None:
        persist(outbox)
    for sink in outboxes:
        end, payload = outbox[sink.key]
        sink.append(payload, end)
    if sinks:
        made = batch()
        for sink in sinks:
            sink.write(made)


def _parties(events: list[Event]) -> tuple[set[str], set[str]]:
    """The conversations and users a batch touches (what a shared-database batch locks)."""
    conversations = {cid for e in events if (cid := e.__dict__.get("conversation_id"))}
    users = {uid for e in events for uid in map(e.__dict__.get, _USER_FIELDS) if uid}
    return conversations, users


def _media_hashes(events: list[Event]) -> list[dict]:
    """PDQ hashes of the batch's media events, as the platform sent them or as the media ingest
    computed them (a hash, never the media), so a later bank entry can be matched against media
    already delivered (``trygg rescan --media``)."""
    rows = []
    for event in events:
        fields = event.__dict__
        if fields.get("type") != "media":
            continue
        facts = fields.get("facts")
        image = getattr(facts, "image", None)
        pdq, quality = (image.pdq, image.quality) if image is not None else (fields.get("pdq"), None)
        if pdq:
            rows.append(
                {
                    "event_id": fields["event_id"],
                    "conversation_id": fields.get("conversation_id"),
                    "sender_id": fields.get("sender_id"),
                    "pdq": pdq,
                    "quality": quality,
                }
            )
    return rows


def _skip_known(events: list[Event], store: Store, report: ScanReport) -> list[Event]:
    ids = [eid for e in events if (eid := e.__dict__.get("event_id"))]
    known = store.known_event_ids(ids) if ids else set()
    if not known:
        return events
    kept = [e for e in events if e.__dict__.get("event_id") not in known]
    report.duplicates += len(events) - len(kept)
    return kept


def _load_state(
    events: list[Event], engine: Engine, store: Store, loaded_conversations: _Loaded, loaded_users: _Loaded
) -> None:
    conversation_ids = {cid for e in events if (cid := e.__dict__.get("conversation_id"))}
    _load_conversations(list(conversation_ids), engine, store, loaded_conversations)
    # Straight from each event's field dict (what event_field reads): this runs for every event.
    user_ids = {uid for e in events for uid in map(e.__dict__.get, _USER_FIELDS) if uid and uid not in loaded_users}
    if user_ids:
        for uid, picture in store.load_users(user_ids).items():
            engine.load_user(uid, picture)
        loaded_users.update(user_ids)


def _load_conversations(conversation_ids: list[str], engine: Engine, store: Store, loaded: _Loaded) -> None:
    wanted = [cid for cid in conversation_ids if cid not in loaded]
    if not wanted:
        return
    held = engine.conversations
    for cid, state in store.load_conversations(wanted).items():
        if cid in held and _same_state(engine.dump_conversation(cid), state):
            # Stored as this engine left it (a shared database reloads every batch): keeping it
            # keeps what a stored state cannot hold, the text an unsettled language tracker has
            # gathered, so a worker's own conversations go on exactly as in one process.
            continue
        engine.load_conversation(cid, state)
    loaded.update(wanted)


def _same_state(held: dict, stored: dict) -> bool:
    return orjson.dumps(held, option=orjson.OPT_NON_STR_KEYS) == orjson.dumps(stored, option=orjson.OPT_NON_STR_KEYS)


def _new_alerts(engine: Engine, conversation_ids: set[str], store: Store | None, alerted: set[str]) -> list[dict]:
    """Alert rows for conversations flagged for the first time in this batch (and, with a
    store, never alerted in an earlier run)."""
    flagged = {}
    for cid in conversation_ids:
        if cid in alerted:
            continue
        summary = engine.summary(cid)
        if summary.get("flagged"):
            flagged[cid] = summary
    if not flagged:
        return []
    already = store.alerted_conversations(flagged) if store is not None else set()
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
