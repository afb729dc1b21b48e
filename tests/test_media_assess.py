"""Media events through the ingest, the detector and the default policy: the actions issue 4 prescribes.

The ingest (trygg.media.ingest) reads and hashes, the detector (trygg.media.detect) matches in
memory and emits signals, and the shipped policy decides the actions; these tests pin the
actions that the engine-side MediaAssessor used to suggest.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pdqhash", reason="needs the 'media' extra")

from test_media_support import blocks, jpeg  # noqa: E402
from trygg.engine import Engine  # noqa: E402
from trygg.events import AccountEvent, MediaEvent  # noqa: E402
from trygg.media.bank_files import add_image  # noqa: E402
from trygg.media.banks import BankStore  # noqa: E402
from trygg.media.detect import MediaDetector  # noqa: E402
from trygg.media.errors import CorruptImageError, MediaError, NotAnImageError  # noqa: E402
from trygg.media.ingest import MediaIngest  # noqa: E402
from trygg.media.matcher import Matcher  # noqa: E402
from trygg.signals.base import DetectionContext  # noqa: E402


class FixedScore:
    """Stands in for the classifier's *output* only: trygg never creates or fetches sexual images,
    so a high score cannot come from the real model in a test. The real model is tested on
    benign images in test_media_nudity.py."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.calls = 0

    def score(self, rgb: np.ndarray) -> float:
        assert rgb.ndim == 3 and rgb.shape[2] == 3
        self.calls += 1
        return self.value


@pytest.fixture
def setup(tmp_path: Path, database_url: str) -> tuple[BankStore, Path]:
    media = tmp_path / "media"
    (media / "pics").mkdir(parents=True)
    (media / "pics" / "banked.jpg").write_bytes(jpeg(blocks(seed=21)))
    (media / "pics" / "other.jpg").write_bytes(jpeg(blocks(seed=22)))
    store = BankStore(database_url)
    store.create_bank("ncmec", source="test")
    add_image(store, "ncmec", media / "pics" / "banked.jpg", label="k-1")
    return store, media


def _event(**fields: object) -> MediaEvent:
    return MediaEvent(type="media", event_id="m1", sender_id="u1", recipient_id="u2", **fields)


def _age(is_minor: bool | None) -> int | None:
    return None if is_minor is None else (13 if is_minor else 35)


def actions(ingest: MediaIngest, detector: MediaDetector, event: MediaEvent, sender_is_minor: bool | None, recipient_is_minor: bool | None) -> tuple[str, ...]:
    """The default policy's actions for one event, sender u1 and recipient u2 of the given ages."""
    engine = Engine(media=detector)
    for user, is_minor in (("u1", sender_is_minor), ("u2", recipient_is_minor)):
        if is_minor is not None:
            engine.process(AccountEvent(type="account", user_id=user, declared_age=_age(is_minor)))
    decision = engine.process(ingest.prepare(event))
    assert decision is not None
    return decision.actions


def test_hash_match_blocks_and_reports(setup: tuple[BankStore, Path]) -> None:
    store, media = setup
    ingest, detector = MediaIngest(media), MediaDetector(Matcher(store))
    event = _event(path="pics/banked.jpg")
    assert actions(ingest, detector, event, sender_is_minor=False, recipient_is_minor=True) == ("block", "report")
    prepared = ingest.prepare(event)
    signals = detector.detect(prepared, DetectionContext(sender_minor=False, recipient_minor=True))
    names = [s.name for s in signals]
    assert names == ["hash_match"]  # exact (sha256) match; the PDQ hit on the same entry is not repeated
    assert signals[0].score == 1.0 and "bank=ncmec" in str(signals[0].value)
    assert signals[0].action == "block"  # the bank's own action, for the policy to weigh
    assert prepared.facts.image is not None and detector.matcher.match(prepared.facts.image)[0].label == "k-1"


def test_pdq_only_event_and_base64_event(setup: tuple[BankStore, Path]) -> None:
    store, media = setup
    ingest, detector = MediaIngest(media), MediaDetector(Matcher(store))
    banked_pdq = next(store.entries("ncmec")).pdq
    by_pdq = _event(pdq=banked_pdq)
    assert actions(ingest, detector, by_pdq, None, None) == ("block", "report")
    assert "match=pdq" in str(detector.detect(by_pdq, DetectionContext(sender_minor=None, recipient_minor=None))[0].value)  # a bare pdq event needs no ingest
    data = base64.b64encode(jpeg(blocks(seed=21), quality=70)).decode()  # re-encoded: only PDQ can match
    by_data = ingest.prepare(_event(data=data))
    assert [str(s.value).rsplit("match=", 1)[1] for s in detector.detect(by_data, DetectionContext(sender_minor=None, recipient_minor=None))] == ["pdq"]
    assert by_data.facts.image is not None and by_data.facts.image.quality == 100
    assert by_data.data is None  # the bytes are dropped once hashed
    clean = _event(path="pics/other.jpg")
    assert detector.detect(ingest.prepare(clean), DetectionContext(sender_minor=None, recipient_minor=None)) == [] and actions(ingest, detector, clean, None, None) == ("allow",)


def test_likely_nude_to_a_minor_is_blurred_and_warned(setup: tuple[BankStore, Path]) -> None:
    store, media = setup
    scorer = FixedScore(0.93)
    ingest, detector = MediaIngest(media, nudity=scorer), MediaDetector(Matcher(store))
    event = _event(path="pics/other.jpg")
    assert actions(ingest, detector, event, sender_is_minor=False, recipient_is_minor=True) == ("warn_recipient", "blur")
    to_minor = detector.detect(ingest.prepare(event), DetectionContext(sender_minor=False, recipient_minor=True))
    assert [(s.name, s.score) for s in to_minor] == [("nudity", 0.93)]
    assert actions(ingest, detector, event, sender_is_minor=True, recipient_is_minor=False) == ("nudge_recipient",)
    assert actions(ingest, detector, event, sender_is_minor=False, recipient_is_minor=False) == ("allow",)
    # The ingest cannot know ages, so it scores every image; the score counts only when a minor is involved.
    assert detector.detect(ingest.prepare(event), DetectionContext(sender_minor=False, recipient_minor=False)) == []
    assert scorer.calls == 5


def test_low_nudity_score_suggests_nothing(setup: tuple[BankStore, Path]) -> None:
    store, media = setup
    ingest, detector = MediaIngest(media, nudity=FixedScore(0.1)), MediaDetector(Matcher(store))
    event = _event(path="pics/other.jpg")
    assert actions(ingest, detector, event, sender_is_minor=True, recipient_is_minor=True) == ("allow",)
    assert ingest.prepare(event).facts.nudity == 0.1


def test_paths_cannot_leave_the_base_dir(setup: tuple[BankStore, Path]) -> None:
    _, media = setup
    ingest = MediaIngest(media)
    with pytest.raises(MediaError, match="leaves the media base directory"):
        ingest.prepare(_event(path="../banks.db"))
    with pytest.raises(MediaError, match="must be relative"):
        ingest.prepare(_event(path="/etc/passwd"))
    with pytest.raises(MediaError, match="media paths are not accepted here"):
        MediaIngest(None).prepare(_event(path="pics/other.jpg"))  # the HTTP API's ingest: data or pdq only


def test_broken_media_raise_precise_errors(setup: tuple[BankStore, Path]) -> None:
    _, media = setup
    (media / "pics" / "cut.jpg").write_bytes(jpeg(blocks(seed=3))[:300])
    ingest = MediaIngest(media)
    with pytest.raises(CorruptImageError, match="pics/cut.jpg: cannot decode"):
        ingest.prepare(_event(path="pics/cut.jpg"))
    with pytest.raises(NotAnImageError, match="event m1 data: invalid base64"):
        ingest.prepare(_event(data="!!!not base64!!!"))
    with pytest.raises(NotAnImageError, match="file not found"):
        ingest.prepare(_event(path="pics/missing.jpg"))


def test_video_event(setup: tuple[BankStore, Path]) -> None:
    cv2 = pytest.importorskip("cv2")
    store, media = setup
    writer = cv2.VideoWriter(str(media / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 5, (400, 300))
    for seed in (30, 21, 31):  # the middle scene is the banked image
        frame = np.ascontiguousarray(blocks(seed=seed)[:, :, ::-1])
        for _ in range(5):
            writer.write(frame)
    writer.release()
    ingest, detector = MediaIngest(media), MediaDetector(Matcher(store))
    event = _event(path="clip.avi", media_type="video")
    assert actions(ingest, detector, event, None, True) == ("block", "report")
    assert [str(s.value).rsplit("match=", 1)[1] for s in detector.detect(ingest.prepare(event), DetectionContext(sender_minor=None, recipient_minor=True))] == ["pdq"]
