"""A fixed set of media events, banks and stand-in nudity scores (no test here).

test_media_golden.py runs it through the media flow and compares with decisions recorded from
the flow before the ingest / detector split (the engine-side ``MediaAssessor`` of commit
b3ce533), so the refactor is shown to change no decision. Benign pictures only: seeded colour
blocks (test_media_support) and, when ../shared/data is present, the PDQ reference photos.

The nudity scores are a stand-in for the classifier's *output* (trygg never creates or fetches
sexual images, so a high score cannot come from the real model in a test): each picture's
score is looked up by the SHA-256 of its decoded pixels.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from test_media_support import blocks, jpeg
from trygg.media.bank_files import add_image, add_video
from trygg.media.banks import BankStore, EntrySpec


class ScoreByPixels:
    """Returns the score given for a picture's decoded pixels, else a low one."""

    def __init__(self, scores: dict[str, float], default: float = 0.05) -> None:
        self.scores = scores
        self.default = default

    def score(self, rgb: np.ndarray) -> float:
        return self.scores.get(pixels_key(rgb), self.default)


def pixels_key(rgb: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).hexdigest()


@dataclass
class Cases:
    store: BankStore
    media: Path
    events: list[dict[str, object]] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)


def _flip(hex_hash: str, bits: int) -> str:
    return f"{int(hex_hash, 16) ^ ((1 << bits) - 1):064x}"


def _write_video(path: Path, seeds: tuple[int, ...], codec: str) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 5, (400, 300))
    for seed in seeds:
        frame = np.ascontiguousarray(blocks(seed=seed)[:, :, ::-1])
        for _ in range(5):
            writer.write(frame)
    writer.release()
    return path


def _bank_image(store: BankStore, bank: str, path: Path, label: str | None = None) -> None:
    add_image(store, bank, path, label=label)


def _bank_video(store: BankStore, bank: str, path: Path, label: str | None = None) -> None:
    add_video(store, bank, path, label=label)


def build(root: Path, database_url: str, pdq_dir: Path | None = None) -> Cases:
    """Pictures under ``root/media``, banks in the database at ``database_url``, and the events in order."""
    media = root / "media"
    (media / "pics").mkdir(parents=True)
    store = BankStore(database_url)
    cases = Cases(store, media)
    for name, action in (
        ("ncmec", "block"),
        ("review", "hold_for_review"),
        ("warnbank", "warn_recipient"),
        ("nudgebank", "nudge_recipient"),
        ("restrict", "restrict_sender"),
        ("blurbank", "blur"),
        ("reportbank", "report"),
        ("videos", "hold_for_review"),
    ):
        store.create_bank(name, source="test", action=action)

    pictures = {
        "banked": 21, "other": 22, "review": 23, "warn": 24, "nudge": 25, "restrict": 26,
        "both": 27, "blur": 28, "report": 29, "nude": 40, "low": 41, "edge": 42,
    }  # fmt: skip
    for name, seed in pictures.items():
        (media / "pics" / f"{name}.jpg").write_bytes(jpeg(blocks(seed=seed)))
    _bank_image(store, "ncmec", media / "pics" / "banked.jpg", label="k-1")
    _bank_image(store, "review", media / "pics" / "review.jpg")
    _bank_image(store, "warnbank", media / "pics" / "warn.jpg")
    _bank_image(store, "nudgebank", media / "pics" / "nudge.jpg")
    _bank_image(store, "restrict", media / "pics" / "restrict.jpg", label="r-9")
    _bank_image(store, "blurbank", media / "pics" / "blur.jpg")
    _bank_image(store, "reportbank", media / "pics" / "report.jpg")
    _bank_image(store, "ncmec", media / "pics" / "both.jpg")
    _bank_image(store, "review", media / "pics" / "both.jpg")
    review_pdq = next(e.pdq for e in store.entries("review"))
    store.add_entries("review", [EntrySpec(md5="0" * 32)])  # an MD5-only entry nothing sends

    from trygg.media.hashing import decode_rgb

    for name, score in (("nude", 0.93), ("warn", 0.93), ("nudge", 0.93), ("low", 0.1), ("edge", 0.80004)):
        data = (media / "pics" / f"{name}.jpg").read_bytes()
        cases.scores[pixels_key(decode_rgb(data))] = score

    (media / "pics" / "cut.jpg").write_bytes(jpeg(blocks(seed=3))[:300])
    (media / "pics" / "text.jpg").write_text("not a picture at all\n")
    _write_video(media / "clip.avi", (30, 21, 31), "MJPG")  # middle scene: the banked image
    _bank_video(store, "videos", _write_video(root / "banked-video.avi", (50, 51, 52, 53), "MJPG"), label="v-1")
    _write_video(media / "copy.mp4", (50, 51, 52, 53), "mp4v")  # the banked video, re-encoded
    _write_video(media / "unrelated.avi", (60, 61), "MJPG")
    (media / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 cut short")

    banked_pdq = next(e.pdq for e in store.entries("ncmec"))
    reencoded = base64.b64encode(jpeg(blocks(seed=21), quality=70)).decode()
    clip_data = base64.b64encode((media / "clip.avi").read_bytes()).decode()

    ev = cases.events
    ev += [
        {"type": "account", "user_id": "kid", "declared_age": 13},
        {"type": "account", "user_id": "kid2", "declared_age": 14},
        {"type": "account", "user_id": "adult", "declared_age": 35},
        {"type": "account", "user_id": "adult2", "declared_age": 41},
    ]

    def media_event(eid: str, sender: str, recipient: str | None, conversation: str | None = "c1", **content: object) -> None:
        event: dict[str, object] = {"type": "media", "event_id": eid, "sender_id": sender, **content}
        if recipient is not None:
            event["recipient_id"] = recipient
        if conversation is not None:
            event["conversation_id"] = conversation
        ev.append(event)

    media_event("path-exact", "adult", "kid", path="pics/banked.jpg")
    media_event("data-reencoded", "adult", "adult2", "c2", data=reencoded)
    media_event("pdq-near", "adult", "kid", "c3", pdq=_flip(banked_pdq, 5))
    media_event("pdq-review", "adult", "adult2", "c4", pdq=_flip(review_pdq, 3))
    media_event("pdq-far", "adult", "kid", "c5", pdq=_flip(banked_pdq, 64))
    media_event("clean", "adult", "kid", "c6", path="pics/other.jpg")
    media_event("review-bank", "adult", "kid", "c7", path="pics/review.jpg")
    media_event("restrict-bank", "adult", "kid", None, path="pics/restrict.jpg")
    media_event("blur-bank", "adult2", "adult", "c8", path="pics/blur.jpg")
    media_event("report-bank", "adult2", "adult", "c8", path="pics/report.jpg")
    media_event("two-banks", "adult", "adult2", "c9", path="pics/both.jpg")
    media_event("nude-to-minor", "adult", "kid", "c10", path="pics/nude.jpg")
    media_event("nude-from-minor", "kid", "adult", "c11", path="pics/nude.jpg")
    media_event("nude-minor-to-minor", "kid", "kid2", "c12", path="pics/nude.jpg")
    media_event("nude-adults", "adult", "adult2", "c13", path="pics/nude.jpg")
    media_event("nude-unknown-ages", "stranger", "stranger2", "c14", path="pics/nude.jpg")
    media_event("nude-no-recipient", "kid", None, "c15", path="pics/nude.jpg")
    media_event("low-score", "kid", "kid2", "c16", path="pics/low.jpg")
    media_event("edge-score", "adult", "kid", "c17", path="pics/edge.jpg")
    media_event("warn-bank-nude-from-minor", "kid", "adult", "c18", path="pics/warn.jpg")
    media_event("nudge-bank-nude-to-minor", "adult", "kid", "c19", path="pics/nudge.jpg")
    media_event("nude-data-to-minor", "adult", "kid2", "c20", data=base64.b64encode((media / "pics" / "nude.jpg").read_bytes()).decode())
    media_event("video-path", "adult", "kid", "c21", path="clip.avi", media_type="video")
    media_event("video-data", "adult", "kid", "c22", data=clip_data, media_type="video")
    media_event("video-copy", "adult", "adult2", "c23", path="copy.mp4", media_type="video")
    media_event("video-unrelated", "adult", "kid", "c24", path="unrelated.avi", media_type="video")
    media_event("video-broken", "adult", "kid", "c24", path="broken.mp4", media_type="video")
    media_event("cut-image", "adult", "kid", "c25", path="pics/cut.jpg")
    media_event("text-as-image", "adult", "kid", "c25", path="pics/text.jpg")
    media_event("bad-base64", "adult", "kid", "c25", data="!!!not base64!!!")
    media_event("escape", "adult", "kid", "c25", path="../banks.db")
    media_event("absolute", "adult", "kid", "c25", path="/etc/hostname")
    media_event("missing", "adult", "kid", "c25", path="pics/missing.jpg")
    media_event("path-exact", "adult", "kid", path="pics/banked.jpg")  # re-sent: a no-op

    if pdq_dir is not None:
        store.create_bank("bridge", source="PDQ reference photos", action="hold_for_review", threshold=20)
        _bank_image(store, "bridge", pdq_dir / "dihedral" / "bridge-1-original.jpg", label="bridge")
        _bank_image(store, "ncmec", pdq_dir / "letterbox" / "sample-b.jpg")
        (media / "ref").mkdir()
        for relative in ("dihedral/bridge-3-rotate-180.jpg", "dihedral/bridge-7-flip-plus-1.jpg", "letterbox/letterboxed_sample-b.jpg", "exact/I16.png", "exact/rgb.jpeg"):
            shutil.copy(pdq_dir / relative, media / "ref" / Path(relative).name)
        media_event("ref-rotated", "adult", "kid", "r1", path="ref/bridge-3-rotate-180.jpg")
        media_event("ref-flipped", "adult", "adult2", "r2", path="ref/bridge-7-flip-plus-1.jpg")
        media_event("ref-letterboxed", "adult", "kid", "r3", path="ref/letterboxed_sample-b.jpg")
        media_event("ref-low-quality", "adult", "kid", "r4", path="ref/I16.png")
        media_event("ref-unbanked", "kid", "kid2", "r5", path="ref/rgb.jpeg")
        blurred = base64.b64encode((pdq_dir / "bridge-mods" / "blur-a-lot.jpg").read_bytes()).decode()
        media_event("ref-blurred-data", "adult", "kid", "r6", data=blurred)
    return cases
