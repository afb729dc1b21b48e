"""Video: PDQ of frames sampled at a set rate, near-duplicate frames collapsed, and matching.

A video is hashed as a short sequence of distinct frames: one frame every ``every_seconds``
(OpenCV decodes only those; the others are skipped with ``grab``), each hashed like an image
(border removal included), and a frame within :data:`COLLAPSE_DISTANCE` of the last kept one
dropped, so a still scene costs one hash, not hundreds.

A query video matches a bank *video* when at least ``min_fraction`` of its kept frames match
frames of that one bank video, and matches a bank *image* when any frame does. The first rule
tolerates re-encoding and trimming, the second catches a banked image shown in a video.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from trygg.media.errors import ImageTooLargeError, VideoError
from trygg.media.hashing import MAX_PIXELS, hamming, pdq_of_rgb
from trygg.media.matcher import BankMatch, Matcher

#: Frames closer than this (Hamming) to the previous kept frame are the same shot.
COLLAPSE_DISTANCE = 16
#: Most frames hashed per video: an hour at one frame per second.
MAX_SAMPLED_FRAMES = 3600
#: A video matches a bank video when this share of its kept frames match that video's frames.
MIN_VIDEO_FRACTION = 0.5


@dataclass(frozen=True)
class FrameHash:
    index: int
    seconds: float
    pdq: str
    quality: int
    dihedral: tuple[str, ...]


@dataclass(frozen=True)
class VideoHashes:
    md5: str
    sha256: str
    fps: float
    sampled: int
    frames: tuple[FrameHash, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "md5": self.md5,
            "sha256": self.sha256,
            "fps": round(self.fps, 3),
            "sampled_frames": self.sampled,
            "frames": [{"index": f.index, "seconds": round(f.seconds, 3), "pdq": f.pdq, "quality": f.quality} for f in self.frames],
        }


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


def match_video(matcher: Matcher, video: VideoHashes, min_fraction: float = MIN_VIDEO_FRACTION) -> list[BankMatch]:
    """Bank matches of a hashed video: exact file hashes, banked images seen in any frame, and
    bank videos enough of whose frames match."""
    results = matcher.match_exact(video.md5, video.sha256)
    seen = {(m.bank, m.entry_id) for m in results}
    per_video: dict[tuple[str, str], tuple[set[int], BankMatch]] = {}
    for position, frame in enumerate(video.frames):
        for hit in matcher.match_pdq(frame.dihedral, frame.quality):
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
                BankMatch(bank, best.action, best.entry_id, "video", best.distance, best.label, "video_frame", video_key, (len(frames), len(video.frames)))
            )
    return results
