"""What the media ingest found out about one media event: hashes, a nudity score, or the fault.

These are plain values with no heavy dependency (no pdqhash, OpenCV, Pillow or faiss), so the
engine side (:mod:`trygg.media.detect`) can read them without the media stack loaded, and the
hashing, video and matching modules can share them without importing each other.

:class:`PreparedMedia` is the media event as it reaches the engine after the ingest: the same
event (every field, unknown ones included) with ``data`` dropped and :class:`MediaFacts`
attached. Only the ingest makes one; a client cannot send ``facts`` (it is not an event field,
and the detector recognises facts only on this class).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ConfigDict

from trygg.events import MediaEvent
from trygg.media.errors import MediaError

#: Hashes with quality below this are too featureless to match reliably (PDQ README).
QUALITY_THRESHOLD = 50


@dataclass(frozen=True)
class ImageHashes:
    """Every hash of one image; ``crop`` is the (left, top, right, bottom) box kept after border
    removal, or ``None`` when the image had no border."""

    pdq: str
    quality: int
    md5: str
    sha256: str
    width: int
    height: int
    dihedral: tuple[str, ...]
    crop: tuple[int, int, int, int] | None = None

    @property
    def matchable(self) -> bool:
        """Whether the PDQ hash is good enough to match (quality >= :data:`QUALITY_THRESHOLD`)."""
        return self.quality >= QUALITY_THRESHOLD

    def as_dict(self) -> dict[str, object]:
        return {
            "pdq": self.pdq,
            "quality": self.quality,
            "md5": self.md5,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "crop": list(self.crop) if self.crop else None,
        }


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


@dataclass(frozen=True)
class MediaFacts:
    """Exactly one of ``image`` (decoded and hashed), ``video`` (frames hashed), ``pdq`` (a hash
    the platform computed) or ``error`` (why the media could not be read) is set.

    ``nudity`` is the classifier's P(nsfw) for a decoded image when the ingest has a classifier;
    the ingest cannot know ages, so it scores every image and the detector decides whether the
    score matters (only when a minor is involved).
    """

    image: ImageHashes | None = None
    video: VideoHashes | None = None
    pdq: str | None = None
    nudity: float | None = None
    error: MediaError | None = None


class PreparedMedia(MediaEvent):
    """A media event after the ingest: bytes dropped, facts attached."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    facts: MediaFacts

    @classmethod
    def of(cls, event: MediaEvent, facts: MediaFacts) -> PreparedMedia:
        """``event`` with ``facts``; its fields, unknown ones included, are kept as they were
        (already validated), except ``data``, which is dropped once hashed."""
        fields = {**event.__dict__, "data": None, "facts": facts}
        prepared = cls.model_construct(_fields_set=set(event.model_fields_set) | {"facts"}, **fields)
        if event.__pydantic_extra__:
            object.__setattr__(prepared, "__pydantic_extra__", dict(event.__pydantic_extra__))
        return prepared
