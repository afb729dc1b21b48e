"""``trygg rescan --media``: match media already delivered against entries newly added to a
hash bank, and record what the match decides.

A bank learns of an image after platforms have already carried it. Every scan keeps the PDQ
hash of each media event (``media_hashes``; a hash, never the media), so when a bank gains
entries the archive of stored hashes is matched against the new ones: a vectorised Hamming
distance (XOR and popcount over four 64-bit words) over the whole archive per new entry, in
blocks (numpy on one machine; Ray Data spreads the blocks over a cluster for archives larger
than one machine reads quickly). A match is recorded as a decision on the media event (the
bank's action and ``report``, merged into a decision the event already had, with a
``hash_match`` reason that names the bank, the entry and the distance). Re-running a rescan
adds nothing: an event that already holds a reason for an entry is not matched to it again.

Messages are rescanned from the platform's own archive, not from the store (which keeps no
message text): ``trygg rescan --events``, :mod:`trygg.cluster.event_rescan`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from trygg.decision import ACTIONS
from trygg.store.repository import Store
from trygg.store.tables import DecisionRow, MediaHashRow

#: Stored hashes matched per block: 262,144 hashes are 8 MB of words, a block's XOR and
#: popcount stay in cache-friendly sizes, and a Ray Data block is big enough to be worth sending.
BLOCK = 1 << 18


@dataclass(frozen=True)
class NewEntry:
    """A bank entry to match the archive against."""

    entry_id: int
    bank: str
    pdq: str
    threshold: int
    action: str


@dataclass(frozen=True)
class ArchiveMatch:
    event_id: str
    entry: NewEntry
    distance: int


def hashes_to_words(hex_hashes: Sequence[str]) -> np.ndarray:
    """PDQ hex strings as an ``(n, 4)`` array of big-endian 64-bit words."""
    if not hex_hashes:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = bytes.fromhex("".join(hex_hashes))
    return np.frombuffer(raw, dtype=">u8").reshape(-1, 4).astype(np.uint64)


def match_block(words: np.ndarray, entries: Sequence[NewEntry]) -> list[tuple[int, int, int]]:
    """``(row, entry index, distance)`` for each stored hash within an entry's threshold."""
    found: list[tuple[int, int, int]] = []
    for index, entry in enumerate(entries):
        query = hashes_to_words([entry.pdq])[0]
        distances = np.bitwise_count(words ^ query).sum(axis=1, dtype=np.int32)
        for row in np.flatnonzero(distances <= entry.threshold):
            found.append((int(row), index, int(distances[row])))
    return found


@dataclass
class StoredHashes:
    """The archive: event ids and their hashes as words, row for row."""

    event_ids: list[str]
    words: np.ndarray

    @classmethod
    def load(cls, store: Store) -> StoredHashes:
        with store.engine.connect() as connection:
            rows = connection.execute(select(MediaHashRow.event_id, MediaHashRow.pdq)).all()
        return cls([row[0] for row in rows], hashes_to_words([row[1] for row in rows]))

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        for start in range(0, len(self.event_ids), BLOCK):
            yield start, self.words[start : start + BLOCK]


def match_archive(archive: StoredHashes, entries: Sequence[NewEntry], use_ray: bool = False) -> list[ArchiveMatch]:
    """Every stored media hash within reach of one of ``entries``."""
    if not entries or not archive.event_ids:
        return []
    if use_ray:
        triples = _match_on_ray_data(archive, entries)
    else:
        triples = [(start + row, index, distance) for start, block in archive.blocks() for row, index, distance in match_block(block, entries)]
    return [ArchiveMatch(archive.event_ids[row], entries[index], distance) for row, index, distance in sorted(triples)]


def _match_on_ray_data(archive: StoredHashes, entries: Sequence[NewEntry]) -> list[tuple[int, int, int]]:
    """The same matching as Ray Data ``map_batches`` over the archive's blocks."""
    import ray.data

    positions = np.arange(len(archive.event_ids), dtype=np.int64)
    dataset = ray.data.from_numpy(np.column_stack([positions.astype(np.uint64), archive.words]))
    chosen = list(entries)

    def matches(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = batch["data"]
        found = match_block(rows[:, 1:], chosen)
        return {
            "row": np.array([int(rows[row, 0]) for row, _, _ in found], dtype=np.int64),
            "entry": np.array([index for _, index, _ in found], dtype=np.int64),
            "distance": np.array([distance for _, _, distance in found], dtype=np.int64),
        }

    result = dataset.map_batches(matches, batch_format="numpy", batch_size=BLOCK).take_all()
    return [(int(r["row"]), int(r["entry"]), int(r["distance"])) for r in result]


def new_entries(store_engine: Any, bank: str, after_entry: int) -> list[NewEntry]:
    """The bank's PDQ entries with an id above ``after_entry`` (ids are never reused)."""
    from trygg.media.banks import BankStore

    banks = BankStore(engine=store_engine)
    info = banks.get_bank(bank)
    return [
        NewEntry(entry.id, bank, entry.pdq, info.threshold, info.action)
        for entry in banks.entries(bank)
        if entry.id > after_entry and entry.pdq
    ]


def record_matches(store: Store, matches: Sequence[ArchiveMatch]) -> int:
    """Merge each match into its event's decision; returns how many decisions changed."""
    if not matches:
        return 0
    by_event: dict[str, list[ArchiveMatch]] = {}
    for match in matches:
        by_event.setdefault(match.event_id, []).append(match)
    changed = 0
    with store.engine.begin() as connection:
        media = {
            row[0]: row[1]
            for row in connection.execute(
                select(MediaHashRow.event_id, MediaHashRow.conversation_id).where(MediaHashRow.event_id.in_(list(by_event)))
            )
        }
        existing = {
            row.event_id: row
            for row in connection.execute(select(DecisionRow).where(DecisionRow.event_id.in_(list(by_event))))
        }
        for event_id, found in by_event.items():
            row = existing.get(event_id)
            actions = set(row.actions) - {"allow"} if row is not None else set()
            reasons = list(row.reasons) if row is not None else []
            known = {reason.get("entry") for reason in reasons if reason.get("signal") == "hash_match" and reason.get("rescan")}
            fresh = [m for m in found if m.entry.entry_id not in known]
            if not fresh:
                continue
            for match in fresh:
                actions |= {match.entry.action, "report"}
                reasons.append(_reason(match))
            values = {
                "conversation_id": media.get(event_id),
                "actions": [a for a in ACTIONS if a in actions],
                "risk": max([float(row.risk) if row is not None else 0.0] + [_score(m.distance) for m in fresh]),
                "reasons": reasons,
                "policy": _rescan_policy(row.policy if row is not None else "none"),
                "decided_at": _now(),
            }
            insert = store._insert(DecisionRow).values(event_id=event_id, **values)
            connection.execute(insert.on_conflict_do_update(index_elements=[DecisionRow.event_id], set_=values))
            changed += 1
    return changed


def _rescan_policy(policy: str) -> str:
    return policy if policy.endswith("+rescan") else policy + "+rescan"


def _score(distance: int) -> float:
    return round(1.0 - distance / 256, 4)  # as trygg.media.assess.match_signal scores a PDQ match


def _reason(match: ArchiveMatch) -> dict[str, object]:
    entry = match.entry
    return {
        "signal": "hash_match",
        "score": _score(match.distance),
        "event_id": match.event_id,
        "value": f"bank={entry.bank} entry={entry.entry_id} distance={match.distance} match=pdq",
        "entry": entry.entry_id,
        "rescan": True,
    }


def _now() -> Any:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)
