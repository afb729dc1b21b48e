"""PDQ, MD5 and SHA-256 of images, with the guards that keep bad input from hurting the host.

PDQ comes from ``pdqhash`` (Meta's reference C++ code), fed exactly as python-threatexchange
feeds it (Pillow decode, converted to RGB), so hashes are bit-exact with the reference vectors
and with hashes shared by other platforms. Two things are added around it:

* guards: a file-size cap, a pixel cap checked *before* decoding (decompression bombs), and
  precise errors for non-images and truncated files;
* border removal: a letterboxed copy of an image hashes like the image itself only once its
  uniform bars are cut off, so matching removes them first (bank entries get the same treatment,
  which keeps both sides consistent). Images without a uniform edge skip the scan entirely.

The eight dihedral hashes (rotations and mirrors) cost nothing extra in pdqhash, so they are
always computed; the matcher queries with all eight to catch rotated or flipped copies.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

import cv2
import numpy as np
import pdqhash
from PIL import Image, UnidentifiedImageError

from trygg.media.errors import CorruptImageError, ImageTooLargeError, NotAnImageError
from trygg.media.facts import QUALITY_THRESHOLD as QUALITY_THRESHOLD  # re-exported: defined with the value types
from trygg.media.facts import ImageHashes

#: Recommended match threshold (PDQ README): Hamming distance <= 31 of 256 bits.
MATCH_THRESHOLD = 31
#: Largest file read at all.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Largest image decoded: 50 megapixels (a 50 MP RGB image is 150 MB in memory).
MAX_PIXELS = 50_000_000
#: How far (0-255, grey level) a pixel may stray from the border colour and still be border;
#: JPEG ringing makes black bars anything but exactly black.
BORDER_TOLERANCE = 24
#: Thinner bars than this fraction of the side are left alone: real letterboxes are wide, and
#: shaving a few flat pixels off an ordinary image would change its hash for nothing.
MIN_BAR_FRACTION = 0.04
#: PDQ's dihedral order, as returned by ``pdqhash.compute_dihedral``.
DIHEDRAL_NAMES = ("original", "rotate90", "rotate180", "rotate270", "flip_x", "flip_y", "flip_plus1", "flip_minus1")


def bits_to_hex(bits: np.ndarray) -> str:
    """256 bits (most significant first, as pdqhash returns them) to 64 hex digits."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def hex_to_bytes(pdq: str) -> bytes:
    """64 hex digits to 32 bytes; raises ``ValueError`` naming the problem."""
    text = pdq.strip().lower()
    if len(text) != 64:
        raise ValueError(f"a PDQ hash is 64 hex digits, got {len(text)} characters")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"not a hexadecimal PDQ hash: {pdq!r}") from None


def hamming(a: str, b: str) -> int:
    """Hamming distance between two PDQ hashes given as hex."""
    return (int.from_bytes(hex_to_bytes(a), "big") ^ int.from_bytes(hex_to_bytes(b), "big")).bit_count()


def read_limited(path: str | Path) -> bytes:
    """Read a file, refusing one over :data:`MAX_FILE_BYTES` before reading it."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise NotAnImageError(str(path), "file not found") from None
    if size > MAX_FILE_BYTES:
        raise ImageTooLargeError(str(path), f"{size} bytes; limit {MAX_FILE_BYTES}")
    return p.read_bytes()


def decode_rgb(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode image bytes to an RGB ``uint8`` array, checking the pixel count before decoding."""
    if len(data) > MAX_FILE_BYTES:
        raise ImageTooLargeError(source, f"{len(data)} bytes; limit {MAX_FILE_BYTES}")
    if not data:
        raise NotAnImageError(source, "empty file")
    try:
        with warnings.catch_warnings():
            # We apply our own, lower pixel cap below; Pillow's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageTooLargeError(
                    source, f"{width}x{height} = {width * height} pixels; limit {MAX_PIXELS} (decompression bomb?)"
                )
            # convert() decodes too; it is applied to RGB images as well, exactly as the
            # reference tooling does, so the pixels PDQ sees are the same bit for bit.
            return np.asarray(image.convert("RGB"))
    except UnidentifiedImageError:
        raise NotAnImageError(source, "not an image (format not recognised)") from None
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(source, str(exc)) from None
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow reports truncated or damaged data as OSError ("image file is truncated"),
        # some plugins as SyntaxError or ValueError.
        raise CorruptImageError(source, f"cannot decode image: {exc}") from None


def _bar(thickness: int, minimum: float) -> int:
    return thickness if thickness >= minimum else 0


def find_content_box(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """The (left, top, right, bottom) box inside uniform border bars, or ``None`` if none.

    The border colour is the corners' median grey level (black, white or any flat colour). Only
    rows and columns whose every pixel is within :data:`BORDER_TOLERANCE` of it are cut, so
    content is never cut into; bars thinner than :data:`MIN_BAR_FRACTION` of the side are kept.
    Most images have no flat edge and pay only for checking their four edge lines.
    """
    height, width = rgb.shape[:2]
    if height < 3 or width < 3:
        return None
    corners = rgb[[0, 0, -1, -1], [0, -1, 0, -1]].astype(np.float32).mean(axis=1)
    ref = float(np.median(corners))
    edges = (rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1])
    if not any(np.abs(e.astype(np.float32).mean(axis=1) - ref).max() <= BORDER_TOLERANCE for e in edges):
        return None
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    content = cv2.absdiff(gray, np.full_like(gray, int(round(ref)))) > BORDER_TOLERANCE
    rows = np.flatnonzero(content.any(axis=1))
    cols = np.flatnonzero(content.any(axis=0))
    if rows.size == 0:
        return None  # all border: nothing to keep
    min_rows, min_cols = MIN_BAR_FRACTION * height, MIN_BAR_FRACTION * width
    top, bottom = _bar(int(rows[0]), min_rows), height - _bar(height - 1 - int(rows[-1]), min_rows)
    left, right = _bar(int(cols[0]), min_cols), width - _bar(width - 1 - int(cols[-1]), min_cols)
    if (left, top, right, bottom) == (0, 0, width, height):
        return None
    return left, top, right, bottom


def pdq_of_rgb(rgb: np.ndarray, unletterbox: bool = True) -> tuple[tuple[str, ...], int, tuple[int, int, int, int] | None]:
    """The eight dihedral PDQ hashes (hex, original first), the quality and the crop box."""
    box = find_content_box(rgb) if unletterbox else None
    if box is not None:
        left, top, right, bottom = box
        rgb = np.ascontiguousarray(rgb[top:bottom, left:right])
    hashes, quality = pdqhash.compute_dihedral(rgb)
    return tuple(bits_to_hex(h) for h in hashes), int(quality), box


def hash_bytes(data: bytes, source: str = "<bytes>", unletterbox: bool = True) -> ImageHashes:
    """Hash image bytes: PDQ (+ dihedral), quality, MD5 and SHA-256."""
    return hash_decoded(data, decode_rgb(data, source), unletterbox)


def hash_decoded(data: bytes, rgb: np.ndarray, unletterbox: bool = True) -> ImageHashes:
    """Hashes of image bytes already decoded to ``rgb`` (callers that also classify the pixels
    decode once)."""
    dihedral, quality, box = pdq_of_rgb(rgb, unletterbox)
    return ImageHashes(
        pdq=dihedral[0],
        quality=quality,
        md5=hashlib.md5(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        width=int(rgb.shape[1]),
        height=int(rgb.shape[0]),
        dihedral=dihedral,
        crop=box,
    )


def hash_file(path: str | Path, unletterbox: bool = True) -> ImageHashes:
    """Hash an image file; raises a :class:`~trygg.media.errors.MediaError` subclass on bad input."""
    return hash_bytes(read_limited(path), str(path), unletterbox)
