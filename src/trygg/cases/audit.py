"""The audit log: append-only and hash-chained, so an altered, removed or inserted entry shows.

Each entry's ``entry_hash`` is SHA-256 over the previous entry's hash and the entry's canonical
content (:func:`canonical`: sorted-key JSON of seq, time, actor, action, subject and detail).
``seq`` is dense from 1, and the one-row ``audit_head`` table holds the last seq and hash; an
append locks that row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has one writer at a time)
so that concurrent writers cannot fork the chain.

What the chain proves: that nobody changed the log *without recomputing every later hash*.
Someone with write access to the database and this code can rebuild the whole chain; to rule
that out, publish or copy :func:`head` somewhere they cannot write (a ticket, a signed mail,
another system's log) and pass it to :func:`verify_chain` as ``anchor``.

Entries keep who (``actor``), what (``action``), about what (``subject``, e.g. ``case:k-...``)
and a small ``detail`` dict; never message text or evidence.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trygg.cases import clock
from trygg.cases.tables import AuditEntryRow, AuditHeadRow

GENESIS_HASH = "0" * 64
_HEAD_ID = 1


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True)
class ChainReport:
    """Outcome of :func:`verify_chain`. ``first_bad_seq`` is the first entry found altered,
    removed or inserted (None when the chain holds); ``problem`` says what is wrong with it."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""

    def message(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.entries} entries"
        return f"audit chain broken at entry {self.first_bad_seq}: {self.problem}"


def canonical(seq: int, at: datetime, actor: str, action: str, subject: str, detail: dict[str, Any]) -> bytes:
    """The bytes an entry's hash covers (stable across SQLite and PostgreSQL round trips)."""
    content = {"seq": seq, "at": clock.iso(at), "actor": actor, "action": action, "subject": subject, "detail": detail}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + content).hexdigest()


def append(
    session: Session,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one entry at the end of the chain, in the caller's transaction.

    Written in the same transaction as the change it records, so a change never commits
    without its audit entry (and an entry never commits for a change that rolled back).
    """
    detail = dict(detail or {})
    # Fail here rather than at commit: the detail must be JSON that round-trips unchanged.
    json.dumps(detail, sort_keys=True, ensure_ascii=False)
    at = clock.utc(at or clock.now())
    head = _locked_head(session)
    seq = head.seq + 1
    digest = entry_hash(head.entry_hash, canonical(seq, at, actor, action, subject, detail))
    session.add(
        AuditEntryRow(
            seq=seq, at=at, actor=actor, action=action, subject=subject, detail=detail, prev_hash=head.entry_hash, entry_hash=digest
        )
    )
    previous = head.entry_hash
    head.seq, head.entry_hash = seq, digest
    return AuditEntry(seq, at, actor, action, subject, detail, previous, digest)


_HEAD_FOR_UPDATE = select(AuditHeadRow).where(AuditHeadRow.id == _HEAD_ID).with_for_update()


def _locked_head(session: Session) -> AuditHeadRow:
    """The head row, locked for this transaction; created (race-free) on the first append.

    The lock holds until the transaction ends, so later appends in the same transaction reuse
    the row instead of asking again (a batch of intake writes one entry per decision).
    """
    transaction = session.get_transaction()
    cached = session.info.get("trygg_audit_head")
    if cached is not None and cached[0] is transaction and transaction is not None and transaction.is_active:
        return cached[1]
    row = session.execute(_HEAD_FOR_UPDATE).scalar_one_or_none()
    if row is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(insert(AuditHeadRow).values(id=_HEAD_ID, seq=0, entry_hash=GENESIS_HASH).on_conflict_do_nothing())
        row = session.execute(_HEAD_FOR_UPDATE).scalar_one()
    session.info["trygg_audit_head"] = (transaction, row)
    return row


def head(session: Session) -> tuple[int, str]:
    """``(seq, hash)`` of the last entry (``(0, GENESIS_HASH)`` for an empty log): the value to
    copy somewhere else and later pass to :func:`verify_chain` as ``anchor``."""
    row = session.get(AuditHeadRow, _HEAD_ID)
    return (row.seq, row.entry_hash) if row is not None else (0, GENESIS_HASH)


def entries(session: Session, subject: str | None = None, limit: int | None = None) -> list[AuditEntry]:
    """Entries in chain order, optionally only those about ``subject`` (a case's history)."""
    query = select(AuditEntryRow).order_by(AuditEntryRow.seq)
    if subject is not None:
        query = query.where(AuditEntryRow.subject == subject)
    if limit is not None:
        query = query.limit(limit)
    return [_entry(row) for row in session.execute(query).scalars()]


def _entry(row: AuditEntryRow) -> AuditEntry:
    return AuditEntry(row.seq, clock.utc(row.at), row.actor, row.action, row.subject, row.detail, row.prev_hash, row.entry_hash)


def verify_chain(session: Session, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Recompute the chain from the first entry and name the first entry that does not fit.

    - an entry whose stored fields no longer give its hash was **altered**;
    - a gap in ``seq`` means the entry at the gap was **removed**;
    - an entry whose ``prev_hash`` is not its predecessor's hash was **inserted** or replaced
      (or its predecessor was removed and the rest renumbered);
    - entries missing at the end show against the head row, and against ``anchor`` if given.
    """
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    table = AuditEntryRow.__table__
    # Plain rows, streamed: the log grows without bound and verifying must not hold it all.
    rows = session.execute(select(table).order_by(table.c.seq).execution_options(yield_per=2000))
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            if row.seq > expected_seq:
                return ChainReport(False, count, expected_seq, f"entry {expected_seq} was removed (next entry is {row.seq})")
            return ChainReport(False, count, row.seq, "sequence number out of order")
        if row.prev_hash != expected_prev:
            return ChainReport(False, count, row.seq, "does not link to the entry before it (inserted, or its predecessor replaced)")
        recomputed = entry_hash(row.prev_hash, canonical(row.seq, row.at, row.actor, row.action, row.subject, row.detail))
        if recomputed != row.entry_hash:
            return ChainReport(False, count, row.seq, "content was altered (its hash no longer matches)")
        expected_prev = row.entry_hash
        expected_seq += 1
    last_seq = expected_seq - 1
    stored_head = head(session)
    if stored_head != (last_seq, expected_prev):
        if stored_head[0] > last_seq:
            return ChainReport(False, count, last_seq + 1, f"entries {last_seq + 1}..{stored_head[0]} were removed from the end")
        return ChainReport(False, count, last_seq, "the chain head does not match the last entry")
    if anchor is not None:
        anchor_seq, anchor_hash = anchor
        if anchor_seq > last_seq:
            return ChainReport(False, count, last_seq + 1, f"the anchor names entry {anchor_seq}, but the log ends at {last_seq}")
        if anchor_seq > 0:
            row = session.get(AuditEntryRow, anchor_seq)
            if row is None or row.entry_hash != anchor_hash:
                return ChainReport(False, count, anchor_seq, "differs from the anchored hash (the chain was rebuilt)")
    return ChainReport(True, count)
