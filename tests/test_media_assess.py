"""MediaAssessor: media events to signals and the actions issue 4 prescribes."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pdqhash", reason="needs the 'media' extra")

from test_media_support import blocks, jpeg  # noqa: E402
from trygg.events import MediaEvent  # noqa: E402
from trygg.media.assess import MediaAssessor  # noqa: E402
from trygg.media.banks import BankStore  # noqa: E402
from trygg.media.errors import CorruptImageError, MediaError, NotAnImageError  # noqa: E402
from trygg.media.matcher import Matcher  # noqa: E402


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
def setup(tmp_path: Path) -> tuple[BankStore, Path]:
    media = tmp_path / "media"
    (media / "pics").mkdir(parents=True)
    (media / "pics" / "banked.jpg").write_bytes(jpeg(blocks(seed=21)))
    (media / "pics" / "other.jpg").write_bytes(jpeg(blocks(seed=22)))
    store = BankStore(f"sqlite:///{tmp_path / 'banks.db'}")
    store.create_bank("ncmec", source="test")
    store.add_image("ncmec", media / "pics" / "banked.jpg", label="k-1")
    return store, media


def _event(**fields: object) -> MediaEvent:
    return MediaEvent(type="media", event_id="m1", sender_id="u1", recipient_id="u2", **fields)


def test_hash_match_blocks_and_reports(setup: tuple[BankStore, Path]) -> None:
    store, media = setup
    assessor = MediaAssessor(Matcher(store), base_dir=media)
    result = assessor.assess(_event(path="pics/banked.jpg"), sender_is_minor=False, recipient_is_minor=True)
    assert result.suggested_actions == ("block", "report")
    names = [s.name for s in result.signals]
    assert names == ["hash_match"]  # exact (sha256) match; the PDQ hit on the same entry is not repeated
    assert result.signals[0].score == 1.0 and "bank=ncmec" in str(result.signals[0].value)
    assert result.matches[0].label == "k-1"


def test_pdq_only_event_and_base64_event(setup: tuple[BankStore, Path]) -> None:
    store, media = setup
    assessor = MediaAssessor(Matcher(store), base_dir=media)
    banked_pdq = next(store.entries("ncmec")).pdq
    by_pdq = assessor.assess(_event(pdq=banked_pdq), None, None)
    assert by_pdq.suggested_actions == ("block", "report") and by_pdq.matches[0].match == "pdq"
    data = base64.b64encode(jpeg(blocks(seed=21), quality=70)).decode()  # re-encoded: only PDQ can match
    by_data = assessor.assess(_event(data=data), None, None)
    assert [m.match for m in by_data.matches] == ["pdq"] and by_data.quality == 100
    clean = assessor.assess(_event(path="pics/other.jpg"), None, None)
    assert clean.signals == [] and clean.suggested_actions == ()


def test_likely_nude_to_a_minor_is_blurred_and_warned(setup: tuple[BankStore, Path]) -> None:
    store, media = setup
    scorer = FixedScore(0.93)
    assessor = MediaAssessor(Matcher(store), nudity=scorer, base_dir=media)
    to_minor = assessor.assess(_event(path="pics/other.jpg"), sender_is_minor=False, recipient_is_minor=True)
    assert to_minor.suggested_actions == ("warn_recipient", "blur")
    assert [(s.name, s.score) for s in to_minor.signals] == [("nudity", 0.93)]
    from_minor = assessor.assess(_event(path="pics/other.jpg"), sender_is_minor=True, recipient_is_minor=False)
    assert from_minor.suggested_actions == ("nudge_recipient",)
    adults = assessor.assess(_event(path="pics/other.jpg"), sender_is_minor=False, recipient_is_minor=False)
    assert adults.suggested_actions == () and adults.nudity is None  # not scored: nothing could follow
    assert scorer.calls == 2


def test_low_nudity_score_suggests_nothing(setup: tuple[BankStore, Path]) -> None:
    store, media = setup
    assessor = MediaAssessor(Matcher(store), nudity=FixedScore(0.1), base_dir=media)
    result = assessor.assess(_event(path="pics/other.jpg"), sender_is_minor=True, recipient_is_minor=True)
    assert result.suggested_actions == () and result.nudity == 0.1


def test_paths_cannot_leave_the_base_dir(setup: tuple[BankStore, Path]) -> None:
    store, media = setup
    assessor = MediaAssessor(Matcher(store), base_dir=media)
    with pytest.raises(MediaError, match="leaves the media base directory"):
        assessor.assess(_event(path="../banks.db"), None, None)
    with pytest.raises(MediaError, match="must be relative"):
        assessor.assess(_event(path="/etc/passwd"), None, None)


def test_broken_media_raise_precise_errors(setup: tuple[BankStore, Path]) -> None:
    store, media = setup
    (media / "pics" / "cut.jpg").write_bytes(jpeg(blocks(seed=3))[:300])
    assessor = MediaAssessor(Matcher(store), base_dir=media)
    with pytest.raises(CorruptImageError, match="pics/cut.jpg: cannot decode"):
        assessor.assess(_event(path="pics/cut.jpg"), None, None)
    with pytest.raises(NotAnImageError, match="event m1 data: invalid base64"):
        assessor.assess(_event(data="!!!not base64!!!"), None, None)
    with pytest.raises(NotAnImageError, match="file not found"):
        assessor.assess(_event(path="pics/missing.jpg"), None, None)


def test_video_event(setup: tuple[BankStore, Path]) -> None:
    cv2 = pytest.importorskip("cv2")
    store, media = setup
    writer = cv2.VideoWriter(str(media / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 5, (400, 300))
    for seed in (30, 21, 31):  # the middle scene is the banked image
        frame = np.ascontiguousarray(blocks(seed=seed)[:, :, ::-1])
        for _ in range(5):
            writer.write(frame)
    writer.release()
    assessor = MediaAssessor(Matcher(store), base_dir=media)
    result = assessor.assess(_event(path="clip.avi", media_type="video"), None, True)
    assert result.suggested_actions == ("block", "report")
    assert [m.match for m in result.matches] == ["pdq"]
