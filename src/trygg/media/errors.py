"""Errors for media input that cannot be hashed or matched.

Each one names the file and what is wrong with it, so the engine can turn it into an error
reason for that event without losing the events around it.
"""

from __future__ import annotations


class MediaError(ValueError):
    """Base class: media that trygg cannot process, with a message that says why."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.reason = message


class NotAnImageError(MediaError):
    """The bytes are not an image format that Pillow can identify."""


class CorruptImageError(MediaError):
    """The file looks like an image but cannot be decoded (truncated or damaged)."""


class ImageTooLargeError(MediaError):
    """Too many pixels or bytes: refused before decoding (decompression-bomb guard)."""


class VideoError(MediaError):
    """A video that OpenCV cannot open or that has no decodable frame."""


class BankError(ValueError):
    """A hash-bank operation that cannot be done (unknown bank, bad hash line, duplicate name)."""
