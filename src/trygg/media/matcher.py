"""Matching media against every bank, in memory: one :class:`~trygg.media.index.PDQIndex` per
bank (each with its own threshold), the banks' MD5 / SHA-256 in hash tables, and the metadata a
match reports (bank, action, entry id, label, kind, video key).

Everything is read from the :class:`~trygg.media.banks.BankStore` once, when the matcher is
built (and again on :meth:`Matcher.reload`), so a lookup never touches the database. The
matcher also follows the store it was built from: adds and removes made through that store
update the tables in place, so a newly banked hash matches at once. Entries and queries with PDQ
quality under 50 are not PDQ-matched (featureless images collide); their MD5 / SHA-256 still
match exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from trygg.media.banks import BankStore
from trygg.media.facts import QUALITY_THRESHOLD, ImageHashes, VideoHashes
from trygg.media.hashing import hex_to_bytes
from trygg.media.index import PDQIndex
from trygg.media.records import BankInfo, EntryInfo, EntrySpec

#: A video matches a bank video when this share of its kept frames match that video's frames.
MIN_VIDEO_FRACTION = 0.5
#: Entries handed to a PDQ index at a time while loading (bounds the temporary lists).
_LOAD_CHUNK = 100_000


@dataclass(frozen=True)
class BankMatch:
    """One bank entry that matched: how (``pdq``, ``md5``, ``sha256`` or ``video``), how close,
    and what the bank says to do. ``frames`` is (matched, sampled) for a video-to-video match."""

    bank: str
    action: str
    entry_id: int
    match: str
    distance: int
    label: str | None = None
    entry_kind: str = "image"
    video_key: str | None = None
    frames: tuple[int, int] | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "bank": self.bank,
            "action": self.action,
            "entry_id": self.entry_id,
            "match": self.match,
            "distance": self.distance,
        }
        if self.label:
            out["label"] = self.label
        if self.video_key:
            out["video_key"] = self.video_key
        if self.frames:
            out["frames"] = list(self.frames)
        return out


def _matchable(quality: int | None) -> bool:
    return quality is None or quality >= QUALITY_THRESHOLD


def _ids(known: int | tuple[int, ...]) -> tuple[int, ...]:
    return (known,) if isinstance(known, int) else known


class _BankTables:
    """One bank in memory. Exact hashes are keyed by their raw bytes (16 for MD5, 32 for
    SHA-256, so one table holds both) and map to an entry id, or a tuple of ids for the rare
    hash banked twice; metadata is kept only for entries that have some (a label, or a video
    frame), so a plain imported hash list costs its index rows and exact keys and nothing more.
    Removed ids are remembered as dead until the next reload."""

    def __init__(self, info: BankInfo) -> None:
        self.info = info
        self.pdq = PDQIndex(threshold=info.threshold)
        self.exact: dict[bytes, int | tuple[int, ...]] = {}
        self.meta: dict[int, tuple[str | None, str, str | None]] = {}
        self.dead: set[int] = set()

    def add(self, ids: Sequence[int], entries: Sequence[EntrySpec | EntryInfo]) -> None:
        pdq_ids: list[int] = []
        codes: list[bytes] = []
        for entry_id, entry in zip(ids, entries):
            if entry.pdq and _matchable(entry.quality):
                pdq_ids.append(entry_id)
                codes.append(hex_to_bytes(entry.pdq))
            for digest in (entry.md5, entry.sha256):
                if digest:
                    key = bytes.fromhex(digest)
                    known = self.exact.get(key)
                    self.exact[key] = entry_id if known is None else _ids(known) + (entry_id,)
            if entry.label or entry.kind != "image" or entry.video_key:
                self.meta[entry_id] = (entry.label, entry.kind, entry.video_key)
        if pdq_ids:
            self.pdq.add(pdq_ids, codes)

    def remove(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        self.pdq.remove(ids)
        self.dead.update(ids)
        for entry_id in ids:
            self.meta.pop(entry_id, None)

    def exact_ids(self, digest: str | None) -> tuple[int, ...]:
        if not digest:
            return ()
        known = self.exact.get(bytes.fromhex(digest))
        return () if known is None else tuple(i for i in _ids(known) if i not in self.dead)

    def hit(self, entry_id: int, match: str, distance: int) -> BankMatch:
        label, kind, video_key = self.meta.get(entry_id, (None, "image", None))
        return BankMatch(self.info.name, self.info.action, entry_id, match, distance, label, kind, video_key)


class Matcher:
    """In-memory tables over every bank in a :class:`BankStore`, kept current with it."""

    def __init__(self, store: BankStore, follow: bool = True) -> None:
        self.store = store
        self._tables: dict[str, _BankTables] = {}
        self.reload()
        if follow:
            store.on_change(self._on_added, self._on_removed, self._on_bank)

    def reload(self) -> None:
        """Rebuild every table from the database (at start, or after changes made elsewhere)."""
        self._tables = {info.name: self._load(info) for info in self.store.list_banks()}

    def _load(self, info: BankInfo) -> _BankTables:
        tables = _BankTables(info)
        chunk: list[EntryInfo] = []
        for entry in self.store.entries(info.name):
            chunk.append(entry)
            if len(chunk) >= _LOAD_CHUNK:
                tables.add([e.id for e in chunk], chunk)
                chunk = []
        tables.add([e.id for e in chunk], chunk)
        return tables

    def _on_bank(self, name: str) -> None:
        if name not in self._tables:
            self._tables[name] = _BankTables(self.store.get_bank(name))

    def _on_added(self, bank: str, ids: list[int], specs: list[EntrySpec]) -> None:
        if bank not in self._tables:
            self._on_bank(bank)
        self._tables[bank].add(ids, specs)

    def _on_removed(self, bank: str, ids: list[int]) -> None:
        if bank in self._tables:
            self._tables[bank].remove(ids)

    @property
    def banks(self) -> dict[str, BankInfo]:
        return {name: tables.info for name, tables in self._tables.items()}

    def pdq_hits(self, hashes: Sequence[str], quality: int | None) -> dict[tuple[str, int], int]:
        """(bank, entry id) -> smallest distance to any of ``hashes`` (e.g. the 8 dihedral ones)."""
        if not hashes or not _matchable(quality):
            return {}
        queries = np.frombuffer(b"".join(hex_to_bytes(h) for h in hashes), dtype=np.uint8).reshape(-1, 32)
        best: dict[tuple[str, int], int] = {}
        for bank, tables in self._tables.items():
            if len(tables.pdq) == 0:
                continue
            for hits in tables.pdq.search(queries):
                for hit in hits:
                    key = (bank, hit.id)
                    if hit.distance < best.get(key, 1 << 30):
                        best[key] = hit.distance
        return best

    def match_pdq(self, hashes: Sequence[str], quality: int | None) -> list[BankMatch]:
        """Bank entries within their bank's threshold of any of ``hashes``, closest first."""
        out = [self._tables[bank].hit(entry_id, "pdq", distance) for (bank, entry_id), distance in self.pdq_hits(hashes, quality).items()]
        return sorted(out, key=lambda m: (m.distance, m.bank, m.entry_id))

    def match_exact(self, md5: str | None, sha256: str | None) -> list[BankMatch]:
        """Entries whose MD5 or SHA-256 equals the given ones (``sha256`` when that matched), by id."""
        out = []
        for tables in self._tables.values():
            by_sha = tables.exact_ids(sha256)
            by_md5 = [i for i in tables.exact_ids(md5) if i not in by_sha]
            out += [tables.hit(i, "sha256", 0) for i in by_sha] + [tables.hit(i, "md5", 0) for i in by_md5]
        return sorted(out, key=lambda m: m.entry_id)

    def match(self, hashes: ImageHashes, dihedral: bool = True) -> list[BankMatch]:
        """Exact and PDQ matches of one image (all eight orientations unless ``dihedral=False``)."""
        exact = self.match_exact(hashes.md5, hashes.sha256)
        seen = {(m.bank, m.entry_id) for m in exact}
        queries = hashes.dihedral if dihedral else (hashes.pdq,)
        fuzzy = [m for m in self.match_pdq(queries, hashes.quality) if (m.bank, m.entry_id) not in seen]
        return exact + fuzzy

    def match_video(self, video: VideoHashes, min_fraction: float = MIN_VIDEO_FRACTION) -> list[BankMatch]:
        """Bank matches of a hashed video: exact file hashes, banked images seen in any frame, and
        bank videos enough of whose frames match.

        A query video matches a bank *video* when at least ``min_fraction`` of its kept frames
        match frames of that one bank video, and matches a bank *image* when any frame does. The
        first rule tolerates re-encoding and trimming, the second catches a banked image shown
        in a video.
        """
        results = self.match_exact(video.md5, video.sha256)
        seen = {(m.bank, m.entry_id) for m in results}
        per_video: dict[tuple[str, str], tuple[set[int], BankMatch]] = {}
        for position, frame in enumerate(video.frames):
            for hit in self.match_pdq(frame.dihedral, frame.quality):
                if hit.entry_kind == "video_frame" and hit.video_key:
                    key = (hit.bank, hit.video_key)
                    frames, best = per_video.get(key, (set(), hit))
                    frames.add(position)
                    per_video[key] = (frames, hit if hit.distance < best.distance else best)
                elif (hit.bank, hit.entry_id) not in seen:
                    seen.add((hit.bank, hit.entry_id))
                    results.append(hit)
        needed = max(1, math.ceil(min_fraction * len(video.frames)))
        for (bank, video_key), (frames, best) in per_video.items():
            if len(frames) >= needed:
                results.append(
                    BankMatch(
                        bank, best.action, best.entry_id, "video", best.distance, best.label, "video_frame", video_key,
                        (len(frames), len(video.frames)),
                    )  # fmt: skip
                )
        return results
