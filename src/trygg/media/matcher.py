"""Matching media against every bank: exact hashes through the database, PDQ through one
:class:`~trygg.media.index.PDQIndex` per bank (each with its own threshold).

The matcher follows the :class:`~trygg.media.banks.BankStore` it was built from: adds and
removes made through that store update the indexes in place, so a newly banked hash matches at
once without a reload. Entries and queries with PDQ quality under 50 are not PDQ-matched
(featureless images collide); their MD5 / SHA-256 still match exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trygg.media.banks import BankInfo, BankStore, EntrySpec
from trygg.media.hashing import QUALITY_THRESHOLD, ImageHashes, hex_to_bytes
from trygg.media.index import PDQIndex


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


class Matcher:
    """In-memory PDQ indexes over every bank in a :class:`BankStore`, kept current with it."""

    def __init__(self, store: BankStore, follow: bool = True) -> None:
        self.store = store
        self._banks: dict[str, BankInfo] = {}
        self._indexes: dict[str, PDQIndex] = {}
        self.reload()
        if follow:
            store.on_change(self._on_added, self._on_removed, self._on_bank)

    def reload(self) -> None:
        """Rebuild every index from the database (at start, or after changes made elsewhere)."""
        self._banks = {b.name: b for b in self.store.list_banks()}
        self._indexes = {name: self._load(info) for name, info in self._banks.items()}

    def _load(self, info: BankInfo) -> PDQIndex:
        index = PDQIndex(threshold=info.threshold)
        ids: list[int] = []
        codes: list[bytes] = []
        for entry in self.store.entries(info.name):
            if entry.pdq and _matchable(entry.quality):
                ids.append(entry.id)
                codes.append(hex_to_bytes(entry.pdq))
            if len(ids) >= 100_000:
                index.add(ids, codes)
                ids, codes = [], []
        index.add(ids, codes)
        return index

    def _on_bank(self, name: str) -> None:
        info = self.store.get_bank(name)
        self._banks[name] = info
        self._indexes.setdefault(name, PDQIndex(threshold=info.threshold))

    def _on_added(self, bank: str, ids: list[int], specs: list[EntrySpec]) -> None:
        if bank not in self._indexes:
            self._on_bank(bank)
        pairs = [(i, hex_to_bytes(s.pdq)) for i, s in zip(ids, specs) if s.pdq and _matchable(s.quality)]
        if pairs:
            self._indexes[bank].add([p[0] for p in pairs], [p[1] for p in pairs])

    def _on_removed(self, bank: str, ids: list[int]) -> None:
        if bank in self._indexes:
            self._indexes[bank].remove(ids)

    @property
    def banks(self) -> dict[str, BankInfo]:
        return dict(self._banks)

    def pdq_hits(self, hashes: Sequence[str], quality: int | None) -> dict[tuple[str, int], int]:
        """(bank, entry id) -> smallest distance to any of ``hashes`` (e.g. the 8 dihedral ones)."""
        if not hashes or not _matchable(quality):
            return {}
        queries = np.frombuffer(b"".join(hex_to_bytes(h) for h in hashes), dtype=np.uint8).reshape(-1, 32)
        best: dict[tuple[str, int], int] = {}
        for bank, index in self._indexes.items():
            if len(index) == 0:
                continue
            for hits in index.search(queries):
                for hit in hits:
                    key = (bank, hit.id)
                    if hit.distance < best.get(key, 1 << 30):
                        best[key] = hit.distance
        return best

    def match_pdq(self, hashes: Sequence[str], quality: int | None) -> list[BankMatch]:
        """Bank entries within their bank's threshold of any of ``hashes``, closest first."""
        best = self.pdq_hits(hashes, quality)
        entries = self.store.entries_by_id(entry_id for _, entry_id in best)
        out = []
        for (bank, entry_id), distance in best.items():
            entry = entries.get(entry_id)
            if entry is None:  # removed by another process since the index was built
                continue
            out.append(
                BankMatch(bank, self._banks[bank].action, entry_id, "pdq", distance, entry.label, entry.kind, entry.video_key)
            )
        return sorted(out, key=lambda m: (m.distance, m.bank, m.entry_id))

    def match_exact(self, md5: str | None, sha256: str | None) -> list[BankMatch]:
        out = []
        for entry in self.store.exact_matches(md5, sha256):
            kind = "sha256" if sha256 and entry.sha256 == sha256.lower() else "md5"
            action = self._banks[entry.bank].action if entry.bank in self._banks else self.store.get_bank(entry.bank).action
            out.append(BankMatch(entry.bank, action, entry.id, kind, 0, entry.label, entry.kind, entry.video_key))
        return out

    def match(self, hashes: ImageHashes, dihedral: bool = True) -> list[BankMatch]:
        """Exact and PDQ matches of one image (all eight orientations unless ``dihedral=False``)."""
        exact = self.match_exact(hashes.md5, hashes.sha256)
        seen = {(m.bank, m.entry_id) for m in exact}
        queries = hashes.dihedral if dihedral else (hashes.pdq,)
        fuzzy = [m for m in self.match_pdq(queries, hashes.quality) if (m.bank, m.entry_id) not in seen]
        return exact + fuzzy
