"""The matching index finds every stored hash within the threshold, flat and with tables."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("faiss", reason="needs the 'media' extra")

from trygg.media.index import PDQIndex, _flip_masks  # noqa: E402


def _flip(code: np.ndarray, distance: int, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(code)
    bits[rng.choice(256, distance, replace=False)] ^= 1
    return np.packbits(bits)


def _brute(codes: np.ndarray, query: np.ndarray, threshold: int) -> set[int]:
    d = np.unpackbits(codes ^ query, axis=1).sum(axis=1)
    return set(np.nonzero(d <= threshold)[0].tolist())


@pytest.mark.parametrize("size, kind", [(2_000, "flat"), (70_000, "mih")])
def test_planted_neighbours_at_every_distance_are_found(size: int, kind: str) -> None:
    rng = np.random.default_rng(size)
    codes = rng.integers(0, 256, (size, 32), dtype=np.uint8)
    idx = PDQIndex()
    idx.add(np.arange(size), codes)
    assert idx.kind == kind
    targets = rng.choice(size, 64, replace=False)
    queries = []
    for i, target in enumerate(targets):
        queries.append(_flip(codes[target], i % 32, rng))  # each distance 0..31 twice
    results = idx.search(np.array(queries))
    for i, (target, hits) in enumerate(zip(targets, results)):
        found = {h.id: h.distance for h in hits}
        assert found.get(int(target)) == i % 32, f"missed planted neighbour at distance {i % 32}"
        # Exact: the hits are precisely the brute-force answer, nothing beyond the threshold.
        assert set(found) == _brute(codes, queries[i], 31)


def test_worst_case_spread_of_31_flips_is_found() -> None:
    """31 flips spread so that 15 chunks differ in 2 bits and one in 1: the pigeonhole edge."""
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 256, (40_000, 32), dtype=np.uint8)
    idx = PDQIndex(mih_min_size=1_000)
    idx.add(np.arange(len(codes)), codes)
    assert idx.kind == "mih"
    query = codes[123].copy()
    for chunk in range(16):
        flips = 1 if chunk == 5 else 2
        word = int.from_bytes(query[2 * chunk : 2 * chunk + 2].tobytes(), "little")
        for bit in rng.choice(16, flips, replace=False):
            word ^= 1 << int(bit)
        query[2 * chunk : 2 * chunk + 2] = np.frombuffer(word.to_bytes(2, "little"), np.uint8)
    assert int(np.unpackbits(query ^ codes[123]).sum()) == 31
    assert [h.id for h in idx.search(query[None])[0]] == [123]
    # At 32 flips (2 in every chunk) the guarantee ends; the exact search radius excludes it anyway.
    assert idx.search(query[None], threshold=30)[0] == []


def test_flip_masks_count() -> None:
    assert len(_flip_masks(0)) == 1
    assert len(_flip_masks(1)) == 17
    assert len(_flip_masks(2)) == 1 + 16 + 120


def test_incremental_add_and_remove() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (5_000, 32), dtype=np.uint8)
    idx = PDQIndex(mih_min_size=1_000)
    idx.add(np.arange(0, 4_000), codes[:4_000])  # merged into tables at once (>= mih_min_size)
    assert idx.kind == "mih"
    idx.add(np.arange(4_000, 4_050), codes[4_000:4_050])  # stays in the flat delta
    assert len(idx) == 4_050
    assert [h.id for h in idx.search(codes[4_010][None])[0]] == [4_010]
    assert [h.id for h in idx.search(codes[10][None])[0]] == [10]
    assert idx.remove([10, 4_010, 999_999]) == 2
    assert idx.search(codes[10][None])[0] == [] and idx.search(codes[4_010][None])[0] == []
    assert len(idx) == 4_048
    idx.add([10], codes[10][None])  # re-added after removal
    assert [h.id for h in idx.search(codes[10][None])[0]] == [10]
    idx.add(np.arange(5_000, 6_000), codes[:1_000] ^ 0xFF)  # forces a merge
    assert len(idx) == 5_049
    assert [h.id for h in idx.search(codes[4_020][None])[0]] == [4_020]
    assert idx.remove(np.arange(0, 3_000)) == 3_000  # compaction path
    assert len(idx) == 2_049
    assert idx.search(codes[5][None])[0] == []
    assert [h.id for h in idx.search(codes[3_500][None])[0]] == [3_500]


def test_distance_256_does_not_wrap() -> None:
    idx = PDQIndex(mih_min_size=1)
    codes = np.zeros((2, 32), np.uint8)
    codes[1] = 0xFF
    idx.add([1, 2], codes)
    idx.add(np.arange(10, 70_010), np.random.default_rng(1).integers(0, 256, (70_000, 32), dtype=np.uint8))
    assert idx.kind == "mih"
    assert [h.id for h in idx.search(codes[0][None])[0]] == [1]


def test_bad_input() -> None:
    idx = PDQIndex()
    with pytest.raises(ValueError, match="2 ids for 1 hashes"):
        idx.add([1, 2], np.zeros((1, 32), np.uint8))
    with pytest.raises(ValueError, match="32 bytes"):
        idx.add([1], [b"short"])
    with pytest.raises(ValueError, match="outside 0..31"):
        idx.search(np.zeros((1, 32), np.uint8), threshold=40)
    with pytest.raises(ValueError, match="threshold must be"):
        PDQIndex(threshold=300)


def test_wider_threshold_uses_more_flips() -> None:
    rng = np.random.default_rng(11)
    codes = rng.integers(0, 256, (70_000, 32), dtype=np.uint8)
    idx = PDQIndex(threshold=47)
    idx.add(np.arange(len(codes)), codes)
    query = _flip(codes[42], 47, rng)
    assert 42 in {h.id for h in idx.search(query[None])[0]}
