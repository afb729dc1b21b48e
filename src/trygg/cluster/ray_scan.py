"""``trygg scan --ray``: the scan job over a Ray cluster, one stateful actor per partition.

Events are partitioned by ``conversation_id`` (CRC-32 modulo the number of actors), so each
conversation's messages reach one actor, in stream order, and its state lives in that actor's
Engine (built by :func:`trygg.compose.build_engine`, like every engine). Events without a
conversation go by their sender (or reporter). Account events (a declared age) are broadcast
to every actor: any conversation may involve the user, and applying one twice is a no-op.

The driver reads the input in rounds, gives each actor its share of a round (two byte strings:
line numbers and lines), and writes what the actors decided in the order a single process
writes (:func:`trygg.scan.commit_outputs`: one transaction per round with the exactly-once
outputs' bytes, then the outputs, then the sinks). An actor sends back only what the writer
needs, made where it was decided: its rows through the store's bind processors
(:meth:`~trygg.store.repository.Store.prepare_batch`, the state's JSON serialised there) and
its lines of each exactly-once output (``render_decision``); events and decisions themselves
travel only when the driver has sinks that need them. So the driver parses a line only to
route it and otherwise concatenates and writes. Actors only read the store (which events are
stored, the state of conversations they meet for the first time); one writer keeps SQLite
usable and makes a round's outputs commit together. The driver sends round k+1 before it
writes round k, so the actors decide while the database writes.

Equal to a single process, line for line (``tests/test_ray_scan.py``), when no user's age
evidence crosses partitions within a round: an age picture is kept by each actor that sees the
user, and a user active in conversations of several partitions is stored as the last actor's
picture of the round. Account events reach every actor, so declared ages are always shared.
One Ray scan per database at a time: actors own their partitions and do not lock them.
"""

from __future__ import annotations

import gc
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import orjson

from trygg import GC_THRESHOLDS
from trygg.compose import Settings, build_engine
from trygg.decision import Decision
from trygg.engine import MAX_SEEN_IDS
from trygg.events import EventError, parse_line
from trygg.scan import _USER_FIELDS, BATCH_SIZE, BatchDecider, ScanReport, _valid_events, commit_outputs
from trygg.sinks import Batch, OutboxSink, Sink
from trygg.store.repository import PreparedRows, Store

#: Lines per round: a round is one transaction and each actor's share of it one call. As large
#: as a single process's batch (``TRYGG_SCAN_BATCH_SIZE``): each round writes the state of
#: every conversation it touched, and on the bench stream rounds of 20,000 wrote three times the
#: state rows of one 50,000-line round (the actors serialise them, the driver writes them).
ROUND_LINES = BATCH_SIZE
_ROUTE_FIELDS = ("conversation_id", "sender_id", "reporter_id", "user_id")


def partition_of(key: str, partitions: int) -> int:
    """The actor that owns ``key`` (stable across processes and runs, unlike ``hash``)."""
    return zlib.crc32(key.encode("utf-8")) % partitions


@dataclass
class PartitionResult:
    """One actor's share of a round, as the writer needs it and no more: its rows already
    prepared for the database (the state's JSON serialised where it was made), its lines of
    each exactly-once output already rendered, and the events and decisions themselves only
    when the writer has sinks that need them. Shipping and unpickling whole events and
    decisions cost the writer about a third of what deciding them cost the actor."""

    rows: PreparedRows
    users: dict[str, dict]
    account_only_users: dict[str, dict]
    alerts: list[dict]
    media_hashes: list[dict]
    payloads: dict[str, bytes]
    decided: list[tuple[Any, Decision]]
    processed: int
    duplicates: int
    decisions: int
    severe_decisions: int
    errors: list[EventError]
    warnings: list[str]
    first_seen: dict[str, int]


class PartitionWorker:
    """One actor: an Engine and the conversations of its partition."""

    def __init__(self, settings: Settings, database_url: str, index: int = 0, partitions: int = 1) -> None:
        gc.set_threshold(*GC_THRESHOLDS)  # as the trygg command runs: the actor is a long-running job
        self._store = Store(database_url)
        engine = build_engine(settings, store=self._store)
        self._decider = BatchDecider(engine, self._store, owns_partition=True)
        self.index, self.partitions = index, partitions
        _warm_up(settings, engine)


    def ready(self) -> bool:
        """Answers once the actor is built (its engine and model loaded)."""
        return True

    def decide(
        self, share: tuple[bytes, bytes], renderers: Mapping[str, Callable[[Decision], bytes]] | None = None, ship_decided: bool = False
    ) -> PartitionResult:
        """Decide this actor's share of a round (:meth:`Share.packed`). ``renderers``: each
        exactly-once output whose lines this actor renders (key -> a function of one decision);
        ``ship_decided``: the writer needs the events and decisions themselves (sinks, or
        outputs it renders)."""
        report = ScanReport()
        seen: dict[str, None] = {}
        parsed = [parse_line(raw, number) for number, raw in Share.unpack(share)]
        events = _valid_events(parsed, report, seen)
        first_seen: dict[str, int] = {}
        for line in parsed:
            if line.event is not None and (cid := line.event.__dict__.get("conversation_id")) and cid not in first_seen:
                first_seen[cid] = line.line
        outcome = self._decider.decide(events, report)
        decided = self._answered_here(outcome.decided, report)
        moved, account_only = self._own_users(events, outcome.users)
        engine = self._decider.engine
        warnings = [f"{event_id}: {message}" for event_id, message in engine.warnings]
        engine.warnings.clear()
        decisions = [decision for _event, decision in decided]
        return PartitionResult(
            rows=self._store.prepare_batch(outcome.events, decisions, outcome.conversations),
            users=moved,
            account_only_users=account_only,
            alerts=outcome.alerts,
            media_hashes=outcome.media_hashes,
            payloads={key: b"".join(map(render, decisions)) for key, render in (renderers or {}).items()},
            decided=decided if ship_decided else [],
            processed=report.processed,
            duplicates=report.duplicates,
            decisions=report.decisions,
            severe_decisions=report.severe_decisions,
            errors=report.errors,
            warnings=warnings,
            first_seen=first_seen,
        )

    def _answered_here(self, decided: list[tuple[Any, Decision]], report: ScanReport) -> list[tuple[Any, Decision]]:
        """The decisions this actor answers for. Account events go to every actor (each
        partition needs the ages) and each answers them alike; the actor owning the user's
        partition gives the one answer a single process gives."""
        kept = []
        for event, decision in decided:
            fields = event.__dict__
            if fields.get("type") == "account" and partition_of(fields["user_id"], self.partitions) != self.index:
                report.decisions -= 1
                report.severe_decisions -= int(decision.severe)
                continue
            kept.append((event, decision))
        return kept

    def _own_users(self, events: list[Any], users: dict[str, dict]) -> tuple[dict[str, dict], dict[str, dict]]:
        """The age pictures this actor may write: those its own events moved (messages, media,
        reports of its conversations), and apart, users whose account events only it answers
        for (the partition of the user id), which the driver writes only where no actor's
        events moved them. Every actor sees every account event; without this, an actor that
        saw only a user's account would overwrite what the user's own conversation taught
        another actor."""
        touched = {
            uid
            for event in events
            if event.__dict__.get("type") != "account"
            for uid in map(event.__dict__.get, _USER_FIELDS)
            if uid
        }
        moved = {uid: picture for uid, picture in users.items() if uid in touched}
        owned = {uid: picture for uid, picture in users.items() if uid not in touched and partition_of(uid, self.partitions) == self.index}
        return moved, owned

    def summaries(self, conversation_ids: list[str]) -> dict[str, dict]:
        """Summaries of these conversations (loaded from the store when no round touched them)."""
        self._decider.load_for_summary(conversation_ids)
        engine = self._decider.engine
        return {cid: engine.summary(cid) for cid in conversation_ids if cid in engine.conversations}


class Share:
    """One actor's lines of a round, sent as two byte strings (the line numbers, and the lines
    joined by newlines, which no stripped line holds) rather than a list of tuples that Ray
    serialises item by item."""

    __slots__ = ("lines", "numbers")

    def __init__(self) -> None:
        self.numbers = array("q")
        self.lines: list[bytes] = []

    def add(self, number: int, raw: bytes) -> None:
        self.numbers.append(number)
        self.lines.append(raw)

    def packed(self) -> tuple[bytes, bytes]:
        return self.numbers.tobytes(), b"\n".join(self.lines)

    @staticmethod
    def unpack(packed: tuple[bytes, bytes]) -> list[tuple[int, bytes]]:
        numbers = array("q")
        numbers.frombytes(packed[0])
        return list(zip(numbers, packed[1].split(b"\n"))) if numbers else []


#: Texts the actor's warm-up decides on a throwaway engine, one per language the packs settle on.
_WARM_TEXTS = ("hej hur mår du, vad gör du ikväll", "hey how are you, what are you doing tonight")


def _warm_up(settings: Settings, engine: Any) -> None:
    """Decide a message or two on a throwaway engine with this actor's model, so what a
    long-running process loads once (the language detector's models, first-use caches) is
    loaded while the actor starts, not in its first round; the actor's own engine stays
    untouched (a warm-up conversation must never reach the store)."""
    from trygg.events import MessageEvent

    spare = build_engine(settings.model_copy(update={"media": False}), model=engine.model)
    for number, text in enumerate(_WARM_TEXTS):
        spare.process(MessageEvent(type="message", event_id=f"warm-{number}", conversation_id=f"warm-{number}", sender_id="a", text=text))


class _Router:
    """Sends each raw line to its partition, and drops an event id already sent in this run:
    a single process's engine remembers the ids it saw, and an id re-used by an event of
    another conversation would otherwise reach an actor that never saw it. (The router reads
    ids before validation: a line rejected as invalid still claims its id, where a single
    process would accept a later valid event with it.)"""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self._sent: dict[str, None] = {}

    def route(self, line: bytes) -> int | None:
        """The partition of one raw line; None broadcasts it (account events), -1 for a line
        that is not a JSON object (the driver rejects it as a single process would), -2 for a
        repeated event id."""
        try:
            fields = orjson.loads(line)
        except orjson.JSONDecodeError:
            return -1
        if not isinstance(fields, dict):
            return -1
        if fields.get("type") == "account":
            return None
        event_id = fields.get("event_id")
        if isinstance(event_id, str):
            if event_id in self._sent:
                return -2
            self._sent[event_id] = None
            if len(self._sent) > MAX_SEEN_IDS:
                del self._sent[next(iter(self._sent))]
        return _partition(fields, self.partitions)


def _partition(fields: dict[str, Any], partitions: int) -> int:
    for name in _ROUTE_FIELDS:
        value = fields.get(name)
        if isinstance(value, str) and value:
            return partition_of(value, partitions)
    return 0  # no id to route by: the actor rejects the line, naming the missing field


def _rounds(lines: Iterable[bytes], size: int) -> Iterator[list[tuple[int, bytes]]]:
    numbered = ((number, raw.strip()) for number, raw in enumerate(lines, start=1))
    nonblank = ((number, raw) for number, raw in numbered if raw)
    while chunk := list(islice(nonblank, size)):
        yield chunk


def start_workers(settings: Settings, database_url: str, workers: int) -> list[Any]:
    """``workers`` partition actors, each with its engine built and its model loaded."""
    import ray

    if workers < 1:
        raise ValueError("need at least one Ray worker")
    actor_class = ray.remote(num_cpus=1)(PartitionWorker)
    actors = [actor_class.remote(settings, database_url, index, workers) for index in range(workers)]
    ray.get([actor.ready.remote() for actor in actors])
    return actors


def scan_on_ray(
    lines: Iterable[bytes],
    settings: Settings,
    store: Store,
    database_url: str,
    workers: int,
    sinks: Sequence[Sink] = (),
    round_lines: int = ROUND_LINES,
) -> tuple[ScanReport, list[dict]]:
    """Scan raw JSON lines over ``workers`` actors on the Ray cluster already joined
    (``ray.init``); returns the report and the summaries of the input's conversations."""
    import ray

    actors = start_workers(settings, database_url, workers)
    outboxes = [sink for sink in sinks if isinstance(sink, OutboxSink)]
    for sink in outboxes:
        sink.recover(store.sink_position(sink.key))
    plain_sinks = [sink for sink in sinks if sink not in outboxes]
    # Outputs the actors render (one piece per decision); the rest the driver renders from the
    # decisions the actors then ship.
    renderers = {sink.key: render for sink in outboxes if (render := getattr(sink, "render_decision", None)) is not None}
    ship_decided = bool(plain_sinks) or len(renderers) < len(outboxes)

    report = ScanReport()
    router = _Router(workers)
    first_seen: dict[str, int] = {}
    pending: list[Any] | None = None
    for chunk in _rounds(lines, round_lines):
        shares = [Share() for _ in range(workers)]
        for number, raw in chunk:
            partition = router.route(raw)
            if partition == -2:
                report.duplicates += 1
            elif partition == -1:
                rejected = parse_line(raw, number)
                report.errors.append(rejected.error or EventError(number, "<line>", "not a JSON object"))
            elif partition is None:  # an account event: checked here once, then broadcast
                checked = parse_line(raw, number)
                if checked.error is not None:
                    report.errors.append(checked.error)
                    continue
                report.accounts += 1
                for share in shares:
                    share.add(number, raw)
            else:
                shares[partition].add(number, raw)
        report.lines += len(chunk)
        submitted = [actor.decide.remote(share.packed(), renderers, ship_decided) for actor, share in zip(actors, shares)]
        if pending is not None:
            _write_round(ray.get(pending), store, outboxes, renderers, plain_sinks, report, first_seen)
        pending = submitted
    if pending is not None:
        _write_round(ray.get(pending), store, outboxes, renderers, plain_sinks, report, first_seen)

    order = sorted(first_seen, key=first_seen.__getitem__)
    owned: list[list[str]] = [[] for _ in range(workers)]
    for cid in order:
        owned[partition_of(cid, workers)].append(cid)
    summaries: dict[str, dict] = {}
    for part in ray.get([actor.summaries.remote(cids) for actor, cids in zip(actors, owned)]):
        summaries.update(part)
    for actor in actors:
        ray.kill(actor)
    report.errors.sort(key=lambda error: error.line)
    report.conversation_ids = order
    return report, [summaries[cid] for cid in order if cid in summaries]


def _write_round(
    results: list[PartitionResult],
    store: Store,
    outboxes: list[OutboxSink],
    renderers: Mapping[str, Callable[[Decision], bytes]],
    sinks: list[Sink],
    report: ScanReport,
    first_seen: dict[str, int],
) -> None:
    """One round through the single-process order (:func:`trygg.scan.commit_outputs`): one
    transaction with the outputs' bytes, then the outputs, then the sinks."""
    account_only: dict[str, dict] = {}
    users: dict[str, dict] = {}
    alerts: list[dict] = []
    media_hashes: list[dict] = []
    for result in results:
        account_only.update(result.account_only_users)
        users.update(result.users)
        alerts += result.alerts
        media_hashes += result.media_hashes
        report.processed += result.processed
        report.duplicates += result.duplicates
        report.decisions += result.decisions
        report.severe_decisions += result.severe_decisions
        report.errors.extend(result.errors)
        report.warnings.extend(result.warnings)
        for cid, line in result.first_seen.items():
            if cid not in first_seen or line < first_seen[cid]:
                first_seen[cid] = line
    decided = [pair for result in results for pair in result.decided]
    decisions = [decision for _event, decision in decided]
    payloads = {
        sink.key: b"".join(result.payloads[sink.key] for result in results) if sink.key in renderers else sink.render(decisions, alerts)
        for sink in outboxes
    }

    def persist(outbox: dict[str, tuple[int, bytes]]) -> None:
        store.write_prepared([result.rows for result in results], {**account_only, **users}, alerts, outbox, media_hashes)

    commit_outputs(persist, outboxes, payloads, sinks, lambda: Batch(decided, alerts))


def join_cluster(address: str | None, workers: int) -> None:
    """Join the Ray cluster at ``address``, or start a local one with a CPU per worker."""
    import ray

    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)

