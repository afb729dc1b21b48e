"""Reading and writing the core tables in batches, the same code on SQLite and PostgreSQL.

The engine is pure; this adapter gives it memory across runs. Writes are batched in one
transaction per batch (the difference between hundreds and tens of thousands of events a
second on SQLite), and state rows are upserted with the dialect's ``ON CONFLICT`` so that a
re-run resumes instead of failing or double-counting.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from trygg.decision import Decision
from trygg.events import Event
from trygg.store.base import make_engine
from trygg.store.schema import create_schema
from trygg.store.bulk import BulkStatement
from trygg.store.locks import BatchLocks
from trygg.store.tables import AlertRow, ConversationRow, DecisionRow, EventRow, MediaHashRow, SinkOutboxRow, UserRow

#: SQLite (3.32+) allows 32766 bound parameters and PostgreSQL 65535; lookups by id are chunked
#: below both, in chunks large enough that a batch takes a handful of queries.
_ID_CHUNK = 5000
#: The columns a batch's write stamps with its commit time (the same in every row).
_WRITE_TIMES = ("ingested_at", "decided_at", "updated_at")


@dataclass
class PreparedRows:
    """A batch's event, decision and conversation rows, bind-processed (:meth:`Store.prepare_batch`)."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    decisions: list[tuple[Any, ...]] = field(default_factory=list)
    conversations: list[tuple[Any, ...]] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Store:
    """Persistence for events, conversation/user state, decisions and alerts."""

    def __init__(self, url: str | None = None, engine: SqlEngine | None = None) -> None:
        self.engine = engine or make_engine(url)
        create_schema(self.engine)
        dialect = self.engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database dialect {dialect!r}: use SQLite or PostgreSQL")
        self._insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        self._writes = self._write_statements()
        #: Per-conversation and per-user locks for workers sharing the database (PostgreSQL);
        #: a no-op on SQLite, which one process owns.
        self.locks = BatchLocks(self.engine)

    @property
    def shared(self) -> bool:
        """Whether other workers may write the same rows at the same time (PostgreSQL): a scan
        then locks what each batch touches and reloads its state under the lock."""
        return self.locks.enabled

    def _write_statements(self) -> dict[str, BulkStatement]:
        """The batch writes, compiled once: inserts that skip known rows, upserts for state."""
        insert, dialect = self._insert, self.engine.dialect
        conversation = insert(ConversationRow)
        user = insert(UserRow)
        statements = {
            "events": (insert(EventRow).on_conflict_do_nothing(), EventRow),
            "decisions": (insert(DecisionRow).on_conflict_do_nothing(), DecisionRow),
            "alerts": (insert(AlertRow).on_conflict_do_nothing(), AlertRow),
            "media_hashes": (insert(MediaHashRow).on_conflict_do_nothing(), MediaHashRow),
            "conversations": (
                conversation.on_conflict_do_update(
                    index_elements=[ConversationRow.conversation_id],
                    set_={
                        "state": conversation.excluded.state,
                        "risk": conversation.excluded.risk,
                        "flagged": conversation.excluded.flagged,
                        "updated_at": conversation.excluded.updated_at,
                    },
                ),
                ConversationRow,
            ),
            "users": (
                user.on_conflict_do_update(
                    index_elements=[UserRow.user_id],
                    set_={"age_picture": user.excluded.age_picture, "updated_at": user.excluded.updated_at},
                ),
                UserRow,
            ),
        }
        return {name: BulkStatement(stmt, table.__table__, dialect) for name, (stmt, table) in statements.items()}

    # -- reads -------------------------------------------------------------------------------
    def known_event_ids(self, event_ids: Iterable[str]) -> set[str]:
        """Which of these event ids were already ingested (the idempotency check)."""
        return self._existing(EventRow.event_id, list(event_ids))

    def _existing(self, column: Any, ids: list[str]) -> set[str]:
        """Which of ``ids`` are in ``column``: every event id of every batch is looked up, so the
        query goes to the driver as plain SQL (an expanding ``IN`` through SQLAlchemy cost two
        microseconds an id, more than the lookup); the names are this schema's, never input."""
        found: set[str] = set()
        placeholder = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        select_from = f"SELECT {column.name} FROM {column.table.name} WHERE {column.name} IN "
        with self.engine.connect() as connection:
            for start in range(0, len(ids), _ID_CHUNK):
                chunk = tuple(ids[start : start + _ID_CHUNK])
                sql = select_from + "(" + ", ".join([placeholder] * len(chunk)) + ")"
                found.update(row[0] for row in connection.exec_driver_sql(sql, chunk))
        return found

    def load_conversations(self, conversation_ids: Iterable[str]) -> dict[str, dict]:
        return self._load(ConversationRow.conversation_id, ConversationRow.state, list(conversation_ids))

    def load_users(self, user_ids: Iterable[str]) -> dict[str, dict]:
        return self._load(UserRow.user_id, UserRow.age_picture, list(user_ids))

    def _load(self, key: Any, value: Any, ids: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(ids), _ID_CHUNK):
                chunk = ids[start : start + _ID_CHUNK]
                out.update((row[0], row[1]) for row in connection.execute(select(key, value).where(key.in_(chunk))))
        return out

    def load_event_rows(self, event_ids: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        """What the store holds of these events: ``{event_id: (type, conversation_id, sender_id,
        recipient_id, text_sha256)}``, the fields :func:`event_key` gives an event."""
        ids = list(event_ids)
        out: dict[str, tuple[Any, ...]] = {}
        columns = (EventRow.event_id, *(getattr(EventRow, name) for name in _EVENT_KEY))
        with self.engine.connect() as connection:
            for start in range(0, len(ids), _ID_CHUNK):
                chunk = ids[start : start + _ID_CHUNK]
                out.update((row[0], tuple(row[1:])) for row in connection.execute(select(*columns).where(EventRow.event_id.in_(chunk))))
        return out

    def load_decisions(self, event_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored decisions of these events (only decisions other than ``allow`` are
        stored): ``{event_id: {actions, risk, reasons, policy}}``."""
        ids = list(event_ids)
        out: dict[str, dict[str, Any]] = {}
        columns = (DecisionRow.event_id, DecisionRow.actions, DecisionRow.risk, DecisionRow.reasons, DecisionRow.policy)
        with self.engine.connect() as connection:
            for start in range(0, len(ids), _ID_CHUNK):
                chunk = ids[start : start + _ID_CHUNK]
                for row in connection.execute(select(*columns).where(DecisionRow.event_id.in_(chunk))):
                    out[row[0]] = {"actions": list(row[1]), "risk": float(row[2]), "reasons": list(row[3]), "policy": row[4]}
        return out

    def alerted_conversations(self, conversation_ids: Iterable[str]) -> set[str]:
        return self._existing(AlertRow.conversation_id, list(conversation_ids))

    def sink_position(self, key: str) -> tuple[int, bytes] | None:
        """What the store last committed for the output ``key``: its length with the latest
        batch in it, and that batch's bytes (see :class:`trygg.sinks.OutboxSink`)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(SinkOutboxRow.committed_end, SinkOutboxRow.pending).where(SinkOutboxRow.sink_key == key)
            ).first()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def counts(self) -> dict[str, int]:
        """Row counts per table (for status output and tests)."""
        from sqlalchemy import func

        with self.engine.connect() as connection:
            return {
                table.__tablename__: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (EventRow, ConversationRow, UserRow, DecisionRow, AlertRow)
            }

    # -- writes ------------------------------------------------------------------------------
    def write_batch(
        self,
        events: Iterable[Event],
        decisions: Iterable[Decision],
        conversations: Mapping[str, dict],
        users: Mapping[str, dict],
        alerts: Iterable[Mapping[str, Any]] = (),
        outbox: Mapping[str, tuple[int, bytes]] | None = None,
        media_hashes: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        """Persist one batch atomically: new events, non-allow decisions, state and alerts,
        the PDQ hashes of its media, and for each exactly-once output (``outbox``: key to the
        output's length with this batch in it, and the batch's bytes) where it stands."""
        self.write_prepared([self.prepare_batch(events, decisions, conversations)], users, alerts, outbox, media_hashes)

    def prepare_batch(self, events: Iterable[Event], decisions: Iterable[Decision], conversations: Mapping[str, dict]) -> PreparedRows:
        """The rows of a batch's events, non-allow decisions and conversation state, through the
        columns' bind processors (the state's JSON serialised): plain tuples that any process
        holding this database's dialect writes with :meth:`write_prepared`. A cluster worker
        prepares its own; the writer then only sends them."""
        writes = self._writes
        event_rows = [_event_row(event) for event in events if event.__dict__.get("event_id")]
        decision_rows = [
            {
                "event_id": d.event_id,
                "conversation_id": d.conversation_id,
                "actions": list(d.actions),
                "risk": d.risk,
                "reasons": list(d.reasons),
                "policy": d.policy,
            }
            for d in decisions
            if d.actions != ("allow",)
        ]
        conversation_rows = [
            {
                "conversation_id": cid,
                "state": state,
                "risk": float(state.get("risk", 0.0)),
                "flagged": int(bool(state.get("first_alert_event_id"))),
            }
            for cid, state in conversations.items()
        ]
        return PreparedRows(
            writes["events"].prepare(event_rows, _WRITE_TIMES),
            writes["decisions"].prepare(decision_rows, _WRITE_TIMES),
            writes["conversations"].prepare(conversation_rows, _WRITE_TIMES),
        )

    def write_prepared(
        self,
        prepared: Iterable[PreparedRows],
        users: Mapping[str, dict],
        alerts: Iterable[Mapping[str, Any]] = (),
        outbox: Mapping[str, tuple[int, bytes]] | None = None,
        media_hashes: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        """:meth:`write_batch` for rows made by :meth:`prepare_batch` (one or several: the
        partitions of a round, which own disjoint events and conversations), in one transaction."""
        now = _now()
        times = {name: now for name in _WRITE_TIMES}
        parts = list(prepared)
        user_rows = [{"user_id": uid, "age_picture": picture} for uid, picture in users.items()]
        writes = self._writes
        with self.engine.begin() as connection:
            for name in ("events", "decisions", "conversations"):
                rows = [row for part in parts for row in getattr(part, name)]
                writes[name].execute_prepared(connection, rows, {key: times[key] for key in _WRITE_TIMES if key in writes[name].columns})
            writes["users"].execute(connection, user_rows, {"updated_at": now})
            writes["alerts"].execute(connection, list(alerts), {"raised_at": now})
            writes["media_hashes"].execute(connection, list(media_hashes), {"stored_at": now})
            for key, (end, payload) in (outbox or {}).items():
                self._record_outbox(connection, key, end, payload, now)

    def _record_outbox(self, connection: Any, key: str, end: int, payload: bytes, now: datetime) -> None:
        statement = self._insert(SinkOutboxRow).values(
            sink_key=key, batches=1, committed_end=end, pending=payload, updated_at=now
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=[SinkOutboxRow.sink_key],
                set_={
                    "batches": SinkOutboxRow.batches + 1,
                    "committed_end": statement.excluded.committed_end,
                    "pending": statement.excluded.pending,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )


#: The fields of an event row that say which event it is (its time aside: stored as each
#: dialect stores it).
_EVENT_KEY = ("type", "conversation_id", "sender_id", "recipient_id", "text_sha256")


def event_key(event: Event) -> tuple[Any, ...]:
    """An event's identity as its stored row has it (:meth:`Store.load_event_rows`): an archive
    event whose key differs from the row stored under its id is another event (an id reused)."""
    row = _event_row(event)
    return tuple(row[name] for name in _EVENT_KEY)


def _event_row(event: Event) -> dict[str, Any]:
    # The event's field dict directly (what event_field reads): one row per ingested event.
    fields = event.__dict__
    text = fields.get("text")
    return {
        "event_id": fields["event_id"],
        "type": fields["type"],
        "conversation_id": fields.get("conversation_id"),
        "sender_id": fields.get("sender_id") or fields.get("user_id") or fields.get("reporter_id") or fields.get("blocker_id"),
        "recipient_id": fields.get("recipient_id") or fields.get("reported_id") or fields.get("other_id") or fields.get("blocked_id"),
        "sent_at": fields.get("sent_at"),
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None,
    }
