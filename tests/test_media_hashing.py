"""PDQ against Meta's reference vectors, dihedral and letterbox matching, and bad input."""

from __future__ import annotations

import csv
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pdqhash", reason="needs the 'media' extra")

from test_media_support import blocks, jpeg  # noqa: E402
from trygg.media import hashing  # noqa: E402
from trygg.media.errors import CorruptImageError, ImageTooLargeError, NotAnImageError  # noqa: E402
from trygg.media.hashing import MATCH_THRESHOLD, QUALITY_THRESHOLD, hamming, hash_bytes, hash_file  # noqa: E402

PDQ_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pdq"


def _rows() -> list[dict[str, str]]:
    if not (PDQ_DATA / "expected.csv").exists():
        return []
    with open(PDQ_DATA / "expected.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _need_data() -> None:
    if not PDQ_DATA.exists():
        pytest.skip(f"PDQ reference data not found at {PDQ_DATA}")


@pytest.mark.data
@pytest.mark.parametrize("row", _rows() or [None], ids=lambda r: r["file"] if r else "no-data")
def test_reference_vector_bit_exact(row: dict[str, str] | None) -> None:
    _need_data()
    assert row is not None
    hashes = hash_file(PDQ_DATA / row["file"])
    assert hashes.pdq == row["pdq_hex"]
    if row["quality"]:
        assert hashes.quality == int(row["quality"])
    # Border removal must not touch an image without real bars.
    assert hash_file(PDQ_DATA / row["file"], unletterbox=False).pdq == row["pdq_hex"]


@pytest.mark.data
def test_low_quality_reference_is_not_matchable() -> None:
    _need_data()
    hashes = hash_file(PDQ_DATA / "exact" / "I16.png")
    assert hashes.quality == 36 < QUALITY_THRESHOLD
    assert not hashes.matchable


@pytest.mark.data
@pytest.mark.parametrize("name", sorted(p.name for p in (PDQ_DATA / "dihedral").glob("*.jpg")) or ["no-data"])
def test_dihedral_variants_match_original(name: str) -> None:
    _need_data()
    original = hash_file(PDQ_DATA / "dihedral" / "bridge-1-original.jpg")
    rotated = hash_file(PDQ_DATA / "dihedral" / name)
    # The rotated image's plain hash lies near one of the original's eight dihedral hashes.
    assert min(hamming(rotated.pdq, d) for d in original.dihedral) <= MATCH_THRESHOLD
    if name != "bridge-1-original.jpg":
        assert hamming(rotated.pdq, original.pdq) > MATCH_THRESHOLD  # so the dihedral step is needed


@pytest.mark.data
def test_letterboxed_sample_matches_original() -> None:
    _need_data()
    plain = hash_file(PDQ_DATA / "letterbox" / "sample-b.jpg")
    boxed = hash_file(PDQ_DATA / "letterbox" / "letterboxed_sample-b.jpg")
    assert plain.crop is None
    assert boxed.crop == (200, 200, 1800, 1204)
    assert hamming(plain.pdq, boxed.pdq) <= MATCH_THRESHOLD
    raw = hash_file(PDQ_DATA / "letterbox" / "letterboxed_sample-b.jpg", unletterbox=False)
    assert hamming(plain.pdq, raw.pdq) > MATCH_THRESHOLD  # without removal it would be missed


@pytest.mark.parametrize("colour", [0, 255])
def test_generated_letterbox_is_removed(colour: int) -> None:
    picture = blocks()
    boxed = np.full((300 + 2 * 60, 400 + 2 * 40, 3), colour, np.uint8)
    boxed[60:360, 40:440] = picture
    plain = hash_bytes(jpeg(picture))
    cropped = hash_bytes(jpeg(boxed))
    assert cropped.crop is not None
    left, top, right, bottom = cropped.crop
    assert abs(left - 40) <= 2 and abs(top - 60) <= 2 and abs(right - 440) <= 2 and abs(bottom - 360) <= 2
    assert hamming(plain.pdq, cropped.pdq) <= 8


def test_thin_flat_edge_is_kept() -> None:
    picture = blocks().copy()
    picture[:3] = 0  # 1% of the height: not a letterbox
    assert hash_bytes(jpeg(picture)).crop is None


def test_exact_hashes_are_of_the_file_bytes() -> None:
    import hashlib

    data = jpeg(blocks())
    hashes = hash_bytes(data)
    assert hashes.md5 == hashlib.md5(data).hexdigest()
    assert hashes.sha256 == hashlib.sha256(data).hexdigest()
    assert hashes.quality >= QUALITY_THRESHOLD and hashes.matchable
    assert len(hashes.dihedral) == 8 and hashes.dihedral[0] == hashes.pdq


def test_non_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a picture")
    with pytest.raises(NotAnImageError, match="notes.jpg: not an image"):
        hash_file(path)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(NotAnImageError, match="empty file"):
        hash_file(tmp_path / "empty.png")
    with pytest.raises(NotAnImageError, match="file not found"):
        hash_file(tmp_path / "nope.png")


def test_truncated_image_is_refused(tmp_path: Path) -> None:
    data = jpeg(blocks())
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptImageError, match="cut.jpg: cannot decode image"):
        hash_file(path)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size: its IHDR alone is enough for the guard to refuse it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLargeError, match="decompression bomb"):
        hash_bytes(_png_header_only(20_000, 20_000), "bomb.png")


def test_oversized_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashing, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.jpg"
    path.write_bytes(jpeg(blocks()))
    with pytest.raises(ImageTooLargeError, match="limit 1000"):
        hash_file(path)


def test_hamming_validates_hex() -> None:
    assert hamming("0" * 64, "f" * 64) == 256
    with pytest.raises(ValueError, match="64 hex digits"):
        hamming("abc", "0" * 64)
    with pytest.raises(ValueError, match="not a hexadecimal"):
        hamming("z" * 64, "0" * 64)
