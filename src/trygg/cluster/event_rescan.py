"""``trygg rescan --events``: replay the event archive with the current policy and model, and
record the decisions that changed.

The store keeps no message text (a SHA-256 of it), so a new policy, model or language pack can
only be applied to past traffic by reading the platform's own archive again: its JSON Lines
event log, the format ``trygg scan`` reads. The replay runs every event of the archive, in
order, through a fresh engine built as a scan builds it (so conversation state is rebuilt
under the new model from the first message, not resumed from state the old model left), and
compares each new decision with the one stored for the event:

- events the store never ingested are replayed (they are part of their conversation's
  history) but not compared: a rescan re-decides what was decided, it does not ingest;
- a decision *changed* when its actions changed. A retrained model moves every risk in its
  last digits, and reasons carry scores, so a change of risk or reasons alone is not a change
  of decision; the recorded result keeps both, old and new, whole;
- each changed decision is one row of ``rescan_results`` (the run id and the event id, the old
  and the new actions, risk, reasons and policy) and replaces the stored decision (policy
  ``<policy>+rescan``; a decision that became ``allow`` is removed, as a scan stores none), so
  a second rescan under the same policy and model finds nothing to change and records nothing;
- an *escalated* decision (:func:`escalates`: an action added that outranks every action
  taken away) goes through the normal outputs,
  the review cases and the decision webhooks, once: ``Batch.redecided`` keys its webhook by
  the event and its new actions, and a case files an event once. Unchanged decisions reach no
  output; other changes (an action taken back, a milder one in a severer one's place) are
  recorded but announced to nobody: taking back
  what the platform was told is a reviewer's call, from the results table.

Exactly once: the outputs are written before the results' transaction and are idempotent, so a
rescan killed half way and run again records every change once (under the new run's id) and
opens no case and queues no webhook twice. What is not rewritten: conversation state, alerts and
age pictures stay as the live scans left them (live scans go on from there).

Two ways to run, one code path (:class:`Replayer`): in process, the archive read in order; or
with Ray Data, the archive split into byte ranges read where they are scheduled, every line keyed
by the partition of its conversation (CRC-32, as ``trygg scan --ray`` routes: account events to
every partition), grouped by partition, and each group replayed in archive order by one engine
(``map_groups``); only the changed decisions come back. The partition caveat of ``trygg scan
--ray`` holds here too: age evidence a user gives in one partition's conversations is not known
to another partition's engine. The archive must be readable at the same path by every node.
"""

from __future__ import annotations

import dataclasses
import pickle
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import delete, update

from trygg.cluster.ray_scan import _partition
from trygg.cluster.rescan import _rescan_policy
from trygg.compose import Settings, build_pipeline, output_sinks
from trygg.decision import ACTIONS, Decision, severity
from trygg.events import event_field, parse_line
from trygg.sinks import Batch, Sink
from trygg.store.repository import Store, event_key
from trygg.store.rescan_tables import RescanResultRow, RescanRunRow
from trygg.store.tables import DecisionRow

#: Archive lines replayed between two look-ups of the stored events and decisions.
REPLAY_LINES = 20_000
#: Bytes of archive per Ray Data read task.
CHUNK_BYTES = 32 << 20


@dataclass
class Change:
    """A stored decision the replay decided differently (plain data: it travels from a worker)."""

    event_id: str
    conversation_id: str | None
    old_actions: tuple[str, ...]
    old_risk: float | None
    old_reasons: list[Any]
    old_policy: str | None
    decision: Decision
    escalated: bool
    #: Archive order (a line number in process, a byte offset with Ray Data).
    position: int = 0
    #: For an escalated decision, what the outputs need: the event and who it is about.
    event: Any = None
    parties: Any = None


@dataclass
class ReplayCounts:
    lines: int = 0
    replayed: int = 0
    compared: int = 0
    not_stored: int = 0
    mismatched: int = 0
    duplicates: int = 0
    rejected: int = 0
    warnings: int = 0

    def add(self, other: ReplayCounts) -> None:
        for name, value in dataclasses.asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


def _ordered(actions: Iterable[str]) -> tuple[str, ...]:
    given = set(actions)
    return tuple(action for action in ACTIONS if action in given)


class Replayer:
    """A fresh engine, built as a scan builds it, replaying archive lines in order against the
    store's decisions (read only: the store is written by :func:`record_changes`)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        pipeline = build_pipeline(settings.model_copy(update={"cases": False}), store)
        self.engine, self.prepare, self.store = pipeline.engine, pipeline.prepare, store
        self.counts = ReplayCounts()

    def replay(
        self, lines: Iterable[tuple[int, bytes]], batch_lines: int = REPLAY_LINES, copies: frozenset[int] = frozenset()
    ) -> Iterator[list[Change]]:
        """``(position, raw line)`` in archive order; yields each batch's changes. ``copies``:
        positions of lines replayed here but counted elsewhere (an account event every
        partition replays)."""
        iterator = iter(lines)
        while batch := list(islice(iterator, batch_lines)):
            yield self._replay_batch(batch, copies)

    def _replay_batch(self, batch: list[tuple[int, bytes]], copies: frozenset[int]) -> list[Change]:
        from trygg.cases.intake import case_input

        engine, counts, prepare = self.engine, self.counts, self.prepare
        parsed = []
        for position, raw in batch:
            raw = raw.strip()
            if not raw:
                continue
            counted = position not in copies
            counts.lines += counted
            line = parse_line(raw, position)
            if line.event is None:
                counts.rejected += counted
            else:
                parsed.append((position, line.event))
        ids = [eid for _, event in parsed if (eid := event_field(event, "event_id"))]
        rows = self.store.load_event_rows(ids) if ids else {}
        stored = self.store.load_decisions(rows) if rows else {}
        changes = []
        for position, event in parsed:
            event_id = event_field(event, "event_id")
            key = event_key(event) if event_id in rows else None
            if prepare is not None:
                event = prepare(event)
            decision = engine.process(event)
            counts.replayed += position not in copies
            if event_id is None:
                continue
            if event_id not in rows:
                counts.not_stored += 1
                continue
            if key != rows[event_id]:  # another event under a stored event's id (an id reused)
                counts.mismatched += 1
                continue
            if engine.is_duplicate(event_id):
                counts.duplicates += 1
                continue
            counts.compared += 1
            change = _compare(event_id, event, stored.get(event_id), decision, position, engine.policy.id)
            if change is not None:
                if change.escalated:
                    change.event, change.parties = event, case_input(engine, event, change.decision)
                changes.append(change)
        engine.drain_dirty()  # a replay writes no state: what is dirty is of no one's interest
        counts.warnings += len(engine.warnings)
        engine.warnings.clear()
        return changes


def _compare(
    event_id: str, event: Any, stored: dict[str, Any] | None, decision: Decision | None, position: int, policy_id: str
) -> Change | None:
    old = _ordered(stored["actions"]) if stored is not None else ("allow",)
    if decision is None:  # the engine answers nothing (an event type without decisions): allow
        decision = Decision(event_id, ("allow",), 0.0, (), policy_id, event_field(event, "conversation_id"))
    new = _ordered(decision.actions)
    if new == old:
        return None
    return Change(
        event_id=event_id,
        conversation_id=decision.conversation_id or event_field(event, "conversation_id"),
        old_actions=old,
        old_risk=stored["risk"] if stored is not None else None,
        old_reasons=stored["reasons"] if stored is not None else [],
        old_policy=stored["policy"] if stored is not None else None,
        decision=dataclasses.replace(decision, actions=new, policy=_rescan_policy(decision.policy or "none")),
        escalated=escalates(old, new),
        position=position,
    )


def escalates(old: Sequence[str], new: Sequence[str]) -> bool:
    """Whether a change of actions asks the platform for more: an action was added that
    outranks every action taken away (``ACTIONS`` order). A milder action in place of a
    severer one (a nudge where a warning was) is a change, not an escalation."""
    added = set(new) - set(old) - {"allow"}
    removed = set(old) - set(new) - {"allow"}
    return bool(added) and max(map(severity, added)) > max(map(severity, removed), default=-1)


# -- recording -------------------------------------------------------------------------------


def start_run(store: Store, source: str, settings: Settings, policy_id: str) -> str:
    """A new run's id, its row written (the run is on record even if it changes nothing)."""
    run_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    with store.engine.begin() as connection:
        connection.execute(
            RescanRunRow.__table__.insert().values(
                run_id=run_id, kind="events", source=source[:1024], policy=policy_id[:64], model=bool(settings.model),
                started_at=_now(), finished_at=None, lines=0, compared=0, changed=0, escalated=0,
            )
        )
    return run_id


def finish_run(store: Store, run_id: str, counts: ReplayCounts, changed: int, escalated: int) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            update(RescanRunRow)
            .where(RescanRunRow.run_id == run_id)
            .values(finished_at=_now(), lines=counts.lines, compared=counts.compared, changed=changed, escalated=escalated)
        )


def record_changes(store: Store, run_id: str, changes: Sequence[Change], sinks: Sequence[Sink] = ()) -> None:
    """Hand the escalated changes to the outputs (idempotent), then record every change and
    replace the stored decisions, in one transaction."""
    if not changes:
        return
    _announce(changes, sinks)
    _record(store, run_id, changes)


def _announce(changes: Sequence[Change], sinks: Sequence[Sink]) -> None:
    """The escalated changes through the outputs (cases, webhooks), which file an event once
    and key a rescan's webhook by the event and its new actions: a rerun announces nothing twice."""
    escalated = [change for change in changes if change.escalated]
    if not escalated or not sinks:
        return
    batch = Batch(
        [(change.event, change.decision) for change in escalated],
        parties={change.event_id: change.parties for change in escalated},
        redecided=True,
    )
    for sink in sinks:
        sink.write(batch)


def _record(store: Store, run_id: str, changes: Sequence[Change]) -> None:
    now = _now()
    results = [
        {
            "run_id": run_id,
            "event_id": change.event_id,
            "conversation_id": change.conversation_id,
            "old_actions": list(change.old_actions),
            "old_risk": change.old_risk,
            "old_reasons": list(change.old_reasons),
            "old_policy": change.old_policy,
            "new_actions": list(change.decision.actions),
            "new_risk": float(change.decision.risk),
            "new_reasons": list(change.decision.reasons),
            "new_policy": change.decision.policy,
            "escalated": change.escalated,
            "recorded_at": now,
        }
        for change in changes
    ]
    allowed = [change.event_id for change in changes if change.decision.actions == ("allow",)]
    acting = [change.decision for change in changes if change.decision.actions != ("allow",)]
    with store.engine.begin() as connection:
        connection.execute(store._insert(RescanResultRow).on_conflict_do_nothing(), results)
        if allowed:
            connection.execute(delete(DecisionRow).where(DecisionRow.event_id.in_(allowed)))
        for decision in acting:
            values = {
                "conversation_id": decision.conversation_id,
                "actions": list(decision.actions),
                "risk": float(decision.risk),
                "reasons": list(decision.reasons),
                "policy": decision.policy,
                "decided_at": now,
            }
            insert = store._insert(DecisionRow).values(event_id=decision.event_id, **values)
            connection.execute(insert.on_conflict_do_update(index_elements=[DecisionRow.event_id], set_=values))


@dataclass
class RescanReport:
    run_id: str
    counts: ReplayCounts = field(default_factory=ReplayCounts)
    changed: int = 0
    escalated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            **dataclasses.asdict(self.counts),
            "changed": self.changed,
            "escalated": self.escalated,
        }

    def count(self, changes: Sequence[Change]) -> None:
        self.changed += len(changes)
        self.escalated += sum(change.escalated for change in changes)


def rescan_events(
    archive: Path,
    settings: Settings,
    store: Store,
    use_ray: bool = False,
    partitions: int = 2,
    database_url: str | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> RescanReport:
    """Replay ``archive`` under ``settings`` (its policy, model, media) and record what changed;
    with ``use_ray``, over the Ray cluster already joined, in ``partitions`` groups."""
    replayer = None if use_ray else Replayer(settings, store)
    policy_id = (replayer.engine.policy if replayer is not None else _policy(settings)).id
    run_id = start_run(store, str(archive), settings, policy_id)
    sinks = output_sinks(settings, store, replayer.engine if replayer is not None else None)  # type: ignore[arg-type]
    report = RescanReport(run_id)
    if replayer is not None:
        with archive.open("rb") as handle:
            for changes in replayer.replay(enumerate(handle, start=1)):
                record_changes(store, run_id, changes, sinks)
                report.count(changes)
        report.counts = replayer.counts
    else:
        seen: set[str] = set()
        url = database_url or store.engine.url.render_as_string(hide_password=False)
        for changes, counts in _replay_on_ray_data(archive, settings, url, partitions, chunk_bytes):
            if counts is not None:
                report.counts.add(counts)
                continue
            fresh = [change for change in changes if change.event_id not in seen]  # an id reused across partitions
            seen.update(change.event_id for change in fresh)
            record_changes(store, run_id, fresh, sinks)
            report.count(fresh)
    finish_run(store, run_id, report.counts, report.changed, report.escalated)
    return report


def _policy(settings: Settings) -> Any:
    from trygg.compose import load_policy

    return load_policy(settings)


def _now() -> datetime:
    return datetime.now(timezone.utc)


# -- Ray Data --------------------------------------------------------------------------------


def archive_chunks(archive: Path, chunk_bytes: int = CHUNK_BYTES) -> list[dict[str, Any]]:
    """The archive as byte ranges that start and end on line boundaries: what each Ray Data
    read task reads (the driver reads one line per range, to find its end, and parses none)."""
    size = archive.stat().st_size
    chunks, start = [], 0
    with archive.open("rb") as handle:
        while start < size:
            handle.seek(min(start + chunk_bytes, size))
            if handle.tell() < size:
                handle.readline()
            end = max(handle.tell(), start + 1) if handle.tell() < size else size
            chunks.append({"path": str(archive), "start": start, "end": end})
            start = end
    return chunks


def _keyed_lines(chunk: dict[str, Any], partitions: int) -> list[dict[str, Any]]:
    """One chunk's lines, each keyed by the partition of its conversation (``trygg scan
    --ray``'s routing); account events once per partition; a line that is not a JSON object
    goes to partition 0, which rejects it as a single process would, once."""
    with open(chunk["path"], "rb") as handle:
        handle.seek(chunk["start"])
        data = handle.read(chunk["end"] - chunk["start"])
    rows: list[dict[str, Any]] = []
    position = chunk["start"]
    for raw in data.split(b"\n"):
        at, position = position, position + len(raw) + 1
        line = raw.strip()
        if not line:
            continue
        try:
            fields = orjson.loads(line)
        except orjson.JSONDecodeError:
            fields = None
        if not isinstance(fields, dict):
            rows.append({"partition": 0, "position": at, "copy": 0, "raw": line})
        elif fields.get("type") == "account":
            rows.extend({"partition": p, "position": at, "copy": int(p > 0), "raw": line} for p in range(partitions))
        else:
            rows.append({"partition": _partition(fields, partitions), "position": at, "copy": 0, "raw": line})
    return rows


def _replay_group(batch: dict[str, Any], settings: Settings, database_url: str) -> dict[str, Any]:
    """``map_groups``: one partition's lines, replayed in archive order by a fresh engine (the
    model is loaded once per worker process); the changes come back pickled, with one row of
    counts."""
    import numpy as np

    order = np.argsort(batch["position"], kind="stable")
    positions = [int(batch["position"][i]) for i in order]
    raws = [bytes(batch["raw"][i]) for i in order]
    copies = frozenset(int(batch["position"][i]) for i in order if batch["copy"][i])  # counted by partition 0
    replayer = Replayer(settings, Store(database_url))
    changes = [change for part in replayer.replay(zip(positions, raws), copies=copies) for change in part]
    counts = replayer.counts
    payloads = [pickle.dumps(change) for change in changes] + [pickle.dumps(counts)]
    return {
        "kind": np.array(["change"] * len(changes) + ["counts"], dtype=object),
        "position": np.array([change.position for change in changes] + [-1], dtype=np.int64),
        "payload": np.array(payloads, dtype=object),
    }


def _replay_on_ray_data(
    archive: Path, settings: Settings, database_url: str, partitions: int, chunk_bytes: int
) -> Iterator[tuple[list[Change], ReplayCounts | None]]:
    """Ray Data: read the chunks where they are scheduled, key and group the lines by
    partition, replay each group; yields the changes as they come (and each group's counts)."""
    import ray.data

    chunks = archive_chunks(archive, chunk_bytes)
    if not chunks:
        return
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    dataset = (
        ray.data.from_items(chunks, override_num_blocks=len(chunks))
        .flat_map(_keyed_lines, fn_args=(partitions,))
        .groupby("partition", num_partitions=partitions)
        .map_groups(_replay_group, fn_args=(settings, database_url), batch_format="numpy", num_cpus=1)
    )
    for batch in dataset.iter_batches(batch_format="numpy", batch_size=None):
        changes = []
        for kind, payload in zip(batch["kind"], batch["payload"]):
            item = pickle.loads(payload)
            if kind == "counts":
                yield [], item
            else:
                changes.append(item)
        changes.sort(key=lambda change: change.position)
        yield changes, None


__all__ = ["Change", "Replayer", "RescanReport", "archive_chunks", "escalates", "record_changes", "rescan_events"]
