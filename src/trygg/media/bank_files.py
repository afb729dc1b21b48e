"""Banking media files: hash an image or a video and store only its hashes in a bank.

This sits above both :mod:`trygg.media.banks` (which stores hashes it is given) and the hashing
modules, so the bank store never imports the media stack back (no import circle).
"""

from __future__ import annotations

from pathlib import Path

from trygg.media.banks import BankStore
from trygg.media.hashing import hash_file
from trygg.media.records import EntrySpec
from trygg.media.video import hash_video


def add_image(store: BankStore, bank: str, path: str | Path, label: str | None = None) -> list[int]:
    """Hash an image file and bank its PDQ, MD5 and SHA-256 (the file itself is not kept)."""
    hashes = hash_file(path)
    spec = EntrySpec(pdq=hashes.pdq, md5=hashes.md5, sha256=hashes.sha256, quality=hashes.quality, label=label)
    return store.add_entries(bank, [spec], source=f"file:{Path(path).name}")


def add_video(store: BankStore, bank: str, path: str | Path, label: str | None = None, every_seconds: float = 1.0) -> list[int]:
    """Hash a video's frames and bank them under one ``video_key`` (the file's SHA-256)."""
    video = hash_video(path, every_seconds=every_seconds)
    specs = [EntrySpec(md5=video.md5, sha256=video.sha256, kind="video_frame", video_key=video.sha256, label=label)]
    specs += [EntrySpec(pdq=f.pdq, quality=f.quality, kind="video_frame", video_key=video.sha256, label=label) for f in video.frames]
    return store.add_entries(bank, specs, source=f"file:{Path(path).name}")
