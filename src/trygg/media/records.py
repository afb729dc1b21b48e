"""The value types hash banks are made of: a bank, an entry to add, a stored entry.

They live apart from :mod:`trygg.media.banks` (the database side) so that the matcher and the
bank store can both use them without one importing the other's layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

HashType = Literal["pdq", "md5", "sha256"]
HASH_LENGTHS: dict[str, int] = {"pdq": 64, "md5": 32, "sha256": 64}
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class BankInfo:
    name: str
    source: str
    description: str
    threshold: int
    action: str
    created_at: datetime
    entries: int

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": self.source,
            "description": self.description,
            "threshold": self.threshold,
            "action": self.action,
            "created_at": self.created_at.isoformat(),
            "entries": self.entries,
        }


def _check_hash(kind: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    text = value.strip().lower()
    if len(text) != HASH_LENGTHS[kind] or not _HEX.match(text):
        raise ValueError(f"{kind} must be {HASH_LENGTHS[kind]} hex digits, got {value!r}")
    return text


@dataclass(frozen=True)
class EntrySpec:
    """A hash to bank, validated on creation: at least one of PDQ, MD5, SHA-256."""

    pdq: str | None = None
    md5: str | None = None
    sha256: str | None = None
    quality: int | None = None
    kind: Literal["image", "video_frame"] = "image"
    video_key: str | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        for name in ("pdq", "md5", "sha256"):
            object.__setattr__(self, name, _check_hash(name, getattr(self, name)))
        if not (self.pdq or self.md5 or self.sha256):
            raise ValueError("an entry needs a pdq, md5 or sha256 hash")
        if self.quality is not None and not 0 <= self.quality <= 100:
            raise ValueError(f"quality must be 0..100, got {self.quality}")
        if self.kind not in ("image", "video_frame"):
            raise ValueError(f"kind must be 'image' or 'video_frame', got {self.kind!r}")
        if self.kind == "video_frame" and not self.video_key:
            raise ValueError("a video frame entry needs a video_key")


@dataclass(frozen=True)
class EntryInfo:
    id: int
    bank: str
    pdq: str | None
    md5: str | None
    sha256: str | None
    quality: int | None
    kind: str
    video_key: str | None
    label: str | None
    source: str
    added_at: datetime
