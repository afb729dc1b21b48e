"""Video: PDQ of frames sampled at a set rate, with near-duplicate frames collapsed.

A video is hashed as a short sequence of distinct frames: one frame every ``every_seconds``
(OpenCV decodes only those; the others are skipped with ``grab``), each hashed like an image
(border removal included), and a frame within :data:`COLLAPSE_DISTANCE` of the last kept one
dropped, so a still scene costs one hash, not hundreds.

Matching the hashed frames against banks is :func:`trygg.media.matcher.match_video`.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import cv2
import numpy as np

from trygg.media.errors import ImageTooLargeError, VideoError
from trygg.media.facts import FrameHash, VideoHashes
from trygg.media.hashing import MAX_PIXELS, hamming, pdq_of_rgb

#: Frames closer than this (Hamming) to the previous kept frame are the same shot.
COLLAPSE_DISTANCE = 16
#: Most frames hashed per video: an hour at one frame per second.
MAX_SAMPLED_FRAMES = 3600


def _file_digests(path: Path) -> tuple[str, str]:
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            md5.update(block)
            sha.update(block)
    return md5.hexdigest(), sha.hexdigest()


def hash_video(path: str | Path, every_seconds: float = 1.0, collapse_distance: int = COLLAPSE_DISTANCE) -> VideoHashes:
    """Hash a video file's frames; raises :class:`VideoError` when no frame can be decoded."""
    p = Path(path)
    if every_seconds <= 0:
        raise ValueError(f"every_seconds must be positive, got {every_seconds}")
    if not p.is_file():
        raise VideoError(str(path), "file not found")
    capture = cv2.VideoCapture(str(p))
    try:
        if not capture.isOpened():
            raise VideoError(str(path), "not a video OpenCV can open")
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > MAX_PIXELS:
            raise ImageTooLargeError(str(path), f"frames of {width}x{height} pixels; limit {MAX_PIXELS}")
        fps = capture.get(cv2.CAP_PROP_FPS)
        fps = fps if fps and math.isfinite(fps) and fps > 0 else 25.0  # containers without a rate: assume PAL
        step = max(1, round(fps * every_seconds))
        frames: list[FrameHash] = []
        sampled = 0
        index = 0
        while sampled < MAX_SAMPLED_FRAMES:
            if not capture.grab():
                break
            if index % step == 0:
                ok, bgr = capture.retrieve()
                if ok and bgr is not None:
                    sampled += 1
                    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
                    dihedral, quality, _ = pdq_of_rgb(rgb)
                    if not frames or hamming(frames[-1].pdq, dihedral[0]) > collapse_distance:
                        frames.append(FrameHash(index, index / fps, dihedral[0], quality, dihedral))
            index += 1
    finally:
        capture.release()
    if not frames:
        raise VideoError(str(path), "no decodable frame (truncated, empty or not a video)")
    md5, sha = _file_digests(p)
    return VideoHashes(md5, sha, fps, sampled, tuple(frames))
