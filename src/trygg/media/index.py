"""Exact Hamming-radius search over PDQ hashes: faiss flat for small sets, multi-index hashing
above :data:`MIH_MIN_SIZE`.

Exactness. Split the 256 bits into 16 chunks of 16 bits. If two hashes differ in at most ``t``
bits, the differences spread over 16 chunks, so at least one chunk differs in at most
``t // 16`` bits (pigeonhole: were every chunk to differ in ``t // 16 + 1`` or more, the total
would be at least ``16 * (t // 16 + 1) > t``). So probing, in each of the 16 chunk tables, the
query's chunk and every variant of it with up to ``nflip = t // 16`` bits flipped finds every
hash within ``t``; the candidates are then checked with their full distance. For the PDQ
threshold 31, ``nflip = 1``: 17 probes per table. No match within the threshold can be missed;
``tests/test_media_index.py`` plants neighbours at every distance 0..31 to prove it.

Memory. faiss's ``IndexBinaryMultiHash`` keeps an 8-byte id per hash per table in hash maps
(measured: 2.4 GB at 10M). Here each table is a counting sort: a ``uint32`` permutation (4 bytes
per hash per table) and a dense offsets array of 65,537 entries; the rows themselves are kept
sorted by chunk 0, so table 0 needs no permutation. 10M hashes take 320 MB of codes + 600 MB of
tables + 40 MB of ids + 10 MB of live flags.

Updates. New hashes go to a small flat faiss segment that is searched exhaustively; once it
reaches ``mih_min_size`` hashes (where flat stops being cheap) it is merged and the tables
rebuilt (about 0.7 s at 1M hashes). Removal marks rows dead (the match is filtered out at once) and compacts later.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from trygg.media.hashing import MATCH_THRESHOLD

#: Below this many hashes a flat scan is as fast as the tables (measured by
#: ``benchmarks/bench_media.py``), so the main segment stays a faiss ``IndexBinaryFlat``.
MIH_MIN_SIZE = 32_768
_CHUNKS = 16
_BUCKETS = 1 << 16
_BYTES = 32


@dataclass(frozen=True, slots=True)
class Hit:
    """A stored hash within the threshold of a query: its id and Hamming distance."""

    id: int
    distance: int


def _as_codes(codes: np.ndarray | list[bytes]) -> np.ndarray:
    """An (n, 32) uint8 C-contiguous array from an array or a list of 32-byte strings."""
    if not isinstance(codes, np.ndarray):
        if any(len(c) != _BYTES for c in codes):
            raise ValueError(f"every PDQ hash must be {_BYTES} bytes")
        codes = np.frombuffer(b"".join(codes), dtype=np.uint8)
    if codes.size % _BYTES:
        raise ValueError(f"hash array of {codes.size} bytes is not a whole number of {_BYTES}-byte hashes")
    return np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, _BYTES)


def _flip_masks(nflip: int) -> np.ndarray:
    """Every 16-bit mask with at most ``nflip`` bits set (0 first)."""
    every = np.arange(_BUCKETS, dtype=np.uint32)
    return every[np.bitwise_count(every) <= nflip].astype(np.uint16)


def _compact_ids(ids: np.ndarray) -> np.ndarray:
    """Store ids as uint32 when they fit (they do for any real bank): half the memory of int64."""
    if ids.size == 0 or (ids.min() >= 0 and ids.max() < 2**32):
        return ids.astype(np.uint32)
    return ids.astype(np.int64)


class _Segment:
    """Codes with their ids and a live mask; searchable flat (faiss) or through chunk tables."""

    def __init__(self, ids: np.ndarray, codes: np.ndarray, tables: bool) -> None:
        self.ids = _compact_ids(ids)
        self.codes = codes
        self.alive = np.ones(len(ids), dtype=bool)
        self.dead = 0
        self.flat: faiss.IndexBinaryFlat | None = None
        self.perm: np.ndarray | None = None
        self.offsets: np.ndarray | None = None
        if tables:
            self._build_tables()
        else:
            self.flat = faiss.IndexBinaryFlat(_BYTES * 8)
            if len(codes):
                self.flat.add(codes)

    def __len__(self) -> int:
        return len(self.ids)

    def _build_tables(self) -> None:
        """Sort the rows by chunk 0, so table 0 needs no permutation (its bucket ranges are row
        ranges), then counting-sort tables 1..15 into ``uint32`` permutations."""
        n = len(self.codes)
        order = np.argsort(self.codes.view("<u2")[:, 0], kind="stable")
        self.codes, self.ids, self.alive = self.codes[order], self.ids[order], self.alive[order]
        del order
        keys = self.codes.view("<u2")  # (n, 16): chunk t is bytes 2t, 2t+1
        self.perm = np.empty((_CHUNKS - 1) * n, dtype=np.uint32)
        self.offsets = np.zeros((_CHUNKS, _BUCKETS + 1), dtype=np.int64)
        for t in range(_CHUNKS):
            column = keys[:, t]
            np.cumsum(np.bincount(column, minlength=_BUCKETS), out=self.offsets[t, 1:])
            if t:
                self.perm[(t - 1) * n : t * n] = np.argsort(column, kind="stable")
            # Table 0 addresses rows directly; table t >= 1 addresses perm[(t - 1) * n ...].
            self.offsets[t] += max(0, t - 1) * n

    def append(self, ids: np.ndarray, codes: np.ndarray) -> None:
        """Flat segments only: faiss appends in place, the numpy side is re-concatenated."""
        assert self.flat is not None
        self.ids = _compact_ids(np.concatenate([self.ids.astype(np.int64), ids]))
        self.codes = np.concatenate([self.codes, codes])
        self.alive = np.concatenate([self.alive, np.ones(len(ids), dtype=bool)])
        self.flat.add(codes)

    def kill(self, ids: np.ndarray) -> int:
        positions = np.nonzero(np.isin(self.ids, ids) & self.alive)[0]
        self.alive[positions] = False
        self.dead += len(positions)
        return len(positions)

    def search(self, queries: np.ndarray, threshold: int, masks: np.ndarray) -> list[list[Hit]]:
        if len(self.ids) == 0:
            return [[] for _ in range(len(queries))]
        if self.flat is not None:
            return self._search_flat(queries, threshold)
        return [self._search_tables(q, threshold, masks) for q in queries]

    def _hits(self, positions: np.ndarray, distances: np.ndarray) -> list[Hit]:
        live = self.alive[positions]
        return [Hit(int(i), int(d)) for i, d in zip(self.ids[positions[live]], distances[live])]

    def _search_flat(self, queries: np.ndarray, threshold: int) -> list[list[Hit]]:
        assert self.flat is not None
        lims, distances, positions = self.flat.range_search(queries, threshold + 1)  # radius is exclusive
        return [self._hits(positions[lims[i] : lims[i + 1]], distances[lims[i] : lims[i + 1]]) for i in range(len(queries))]

    def _search_tables(self, query: np.ndarray, threshold: int, masks: np.ndarray) -> list[Hit]:
        assert self.perm is not None and self.offsets is not None
        keys = query.view("<u2")
        probes = (keys[:, None] ^ masks[None, :]).astype(np.int64)  # (16, probes per table)
        rows = np.arange(_CHUNKS)[:, None]
        starts = self.offsets[rows, probes]
        lengths = self.offsets[rows, probes + 1] - starts
        # Table 0's buckets are row ranges; the other tables' are ranges of ``perm``.
        candidates = np.concatenate(
            [_ranges(starts[0], lengths[0]), self.perm[_ranges(starts[1:].ravel(), lengths[1:].ravel())]]
        )
        if candidates.size == 0:
            return []
        # A hash near the query in several chunks is gathered several times: distances are cheap,
        # so duplicates are dropped only among the (few) hits.
        words = np.take(self.codes.view(np.uint64), candidates, axis=0) ^ query.view(np.uint64)
        counts = np.bitwise_count(words).astype(np.uint16)  # uint8 would wrap at distance 256
        distances = counts[:, 0] + counts[:, 1] + counts[:, 2] + counts[:, 3]
        within = distances <= threshold
        candidates, first = np.unique(candidates[within], return_index=True)
        distances = distances[within][first]
        return self._hits(candidates, distances)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenation of ``range(start, start + length)`` for each pair, without a loop."""
    ends = np.cumsum(lengths)
    if ends.size == 0 or ends[-1] == 0:
        return np.empty(0, dtype=np.int64)
    return np.arange(ends[-1]) + np.repeat(starts - (ends - lengths), lengths)


class PDQIndex:
    """Exact search for stored PDQ hashes within a Hamming threshold, with adds and removes.

    ``threshold`` fixes the widest radius searched (it sets how many bit flips the tables probe);
    a search may ask for a narrower one.
    """

    def __init__(self, threshold: int = MATCH_THRESHOLD, mih_min_size: int = MIH_MIN_SIZE) -> None:
        if not 0 <= threshold < 256:
            raise ValueError(f"threshold must be in 0..255, got {threshold}")
        self.threshold = threshold
        self.mih_min_size = mih_min_size
        self._masks = _flip_masks(threshold // _CHUNKS)
        self._main = _Segment(np.empty(0, np.int64), np.empty((0, _BYTES), np.uint8), tables=False)
        self._delta = _Segment(np.empty(0, np.int64), np.empty((0, _BYTES), np.uint8), tables=False)

    def __len__(self) -> int:
        """Live hashes."""
        return len(self._main) - self._main.dead + len(self._delta) - self._delta.dead

    @property
    def kind(self) -> str:
        """``"mih"`` when the main segment uses chunk tables, else ``"flat"``."""
        return "flat" if self._main.flat is not None else "mih"

    def add(self, ids: np.ndarray | list[int], codes: np.ndarray | list[bytes]) -> None:
        """Add hashes (32 bytes each) under the given ids; an id may be re-added after removal."""
        ids_arr = np.asarray(ids, dtype=np.int64).ravel()
        codes_arr = _as_codes(codes)
        if len(ids_arr) != len(codes_arr):
            raise ValueError(f"{len(ids_arr)} ids for {len(codes_arr)} hashes")
        if len(ids_arr) == 0:
            return
        if len(self._delta) + len(ids_arr) >= self.mih_min_size:
            self._rebuild(ids_arr, codes_arr)  # bulk loads go straight into the tables
        else:
            self._delta.append(ids_arr, codes_arr)

    def remove(self, ids: np.ndarray | list[int]) -> int:
        """Remove every live hash stored under these ids; returns how many were removed."""
        ids_arr = np.asarray(ids, dtype=np.int64).ravel()
        removed = self._main.kill(ids_arr) + self._delta.kill(ids_arr)
        if self._main.dead > len(self._main) // 4 + 1024:
            self._rebuild()
        return removed

    def _rebuild(self, extra_ids: np.ndarray | None = None, extra_codes: np.ndarray | None = None) -> None:
        parts = [seg for seg in (self._main, self._delta) if len(seg)]
        ids = [seg.ids[seg.alive].astype(np.int64) for seg in parts]
        codes = [seg.codes[seg.alive] for seg in parts]
        if extra_ids is not None and extra_codes is not None:
            ids.append(extra_ids)
            codes.append(extra_codes)
        del parts
        empty_ids, empty_codes = np.empty(0, np.int64), np.empty((0, _BYTES), np.uint8)
        self._main = self._delta = _Segment(empty_ids, empty_codes, tables=False)  # free the old segments first
        all_ids = np.concatenate(ids) if ids else empty_ids
        all_codes = np.concatenate(codes) if codes else empty_codes
        del ids, codes
        self._main = _Segment(all_ids, all_codes, tables=len(all_ids) >= self.mih_min_size)
        self._delta = _Segment(empty_ids, empty_codes, tables=False)

    def search(self, queries: np.ndarray | list[bytes], threshold: int | None = None) -> list[list[Hit]]:
        """For each query, every live stored hash within ``threshold`` (default: the index's)."""
        radius = self.threshold if threshold is None else threshold
        if not 0 <= radius <= self.threshold:
            raise ValueError(f"threshold {radius} is outside 0..{self.threshold} for this index")
        q = _as_codes(queries)
        main = self._main.search(q, radius, self._masks)
        delta = self._delta.search(q, radius, self._masks)
        return [sorted(a + b, key=lambda h: (h.distance, h.id)) for a, b in zip(main, delta)]

    def nbytes(self) -> int:
        """Bytes held by the arrays (codes, ids, tables, masks), for memory figures."""
        total = 0
        for s in (self._main, self._delta):
            total += s.codes.nbytes + s.ids.nbytes + s.alive.nbytes
            if s.perm is not None and s.offsets is not None:
                total += s.perm.nbytes + s.offsets.nbytes
            if s.flat is not None:
                total += s.flat.ntotal * _BYTES
        return total
