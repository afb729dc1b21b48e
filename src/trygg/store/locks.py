"""Locks that let several workers write the same PostgreSQL database without losing updates.

A batch reads the state of the conversations and users it touches, changes it, and writes it
back. Two workers doing that for the same conversation at once would each write a state missing
the other's messages. So before reading, a worker takes a transaction-scoped advisory lock for
every conversation and user of its batch, and holds them until its batch has committed: the
second worker waits, then reads the state the first one wrote (and finds its events already
stored, so it skips them).

Ids are hashed into :data:`BUCKETS` lock keys rather than one lock per id: PostgreSQL's lock
table has room for about ``max_locks_per_transaction * max_connections`` locks in all (6,400
by default), and a 50,000-event batch touches tens of thousands of ids. Two ids in one bucket
only wait for each other; correctness never depends on the hash. Keys are taken in ascending
order, so two workers can never wait on each other in a cycle.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

#: Lock keys per kind (conversation, user). 256 each: a batch holds at most 512 locks, so about
#: a dozen workers fit PostgreSQL's default lock table.
BUCKETS = 256
#: The first half of PostgreSQL's two-integer advisory key: trygg's own namespace ("tg").
NAMESPACE = 0x7467


def bucket(kind: int, identifier: str) -> int:
    """The lock key of one id: ``kind`` 0 for conversations, 1 for users."""
    return kind * BUCKETS + zlib.crc32(identifier.encode("utf-8")) % BUCKETS


class BatchLocks:
    """Advisory locks on PostgreSQL; nothing on SQLite (one process owns an SQLite file)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.enabled = engine.dialect.name == "postgresql"

    @contextmanager
    def holding(self, conversation_ids: Iterable[str], user_ids: Iterable[str]) -> Iterator[None]:
        """Hold the locks of these ids until the block ends (its writes committed by then)."""
        if not self.enabled:
            yield
            return
        keys = sorted({bucket(0, cid) for cid in conversation_ids} | {bucket(1, uid) for uid in user_ids})
        with self._engine.connect() as connection:
            transaction = connection.begin()
            try:
                if keys:
                    connection.execute(
                        text(
                            "SELECT pg_advisory_xact_lock(:namespace, k) "
                            "FROM (SELECT k FROM unnest(CAST(:keys AS integer[])) AS k ORDER BY k) AS ordered"
                        ),
                        {"namespace": NAMESPACE, "keys": keys},
                    )
                yield
            finally:
                transaction.rollback()  # ends the transaction, which releases its advisory locks
