"""Video hashing and matching on small videos generated here from benign synthetic frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="needs the 'media' extra")

from test_media_support import blocks, jpeg  # noqa: E402
from trygg.media.banks import BankStore, EntrySpec  # noqa: E402
from trygg.media.errors import VideoError  # noqa: E402
from trygg.media.hashing import hamming, hash_bytes  # noqa: E402
from trygg.media.matcher import Matcher  # noqa: E402
from trygg.media.bank_files import add_video  # noqa: E402
from trygg.media.video import hash_video  # noqa: E402


def write_video(path: Path, scenes: list[np.ndarray], frames_per_scene: int = 10, fps: int = 10, codec: str = "mp4v") -> Path:
    """Each scene (RGB) held for ``frames_per_scene`` frames, with a little moving noise."""
    height, width = scenes[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {codec}"
    rng = np.random.default_rng(0)
    for scene in scenes:
        for _ in range(frames_per_scene):
            noisy = np.clip(scene.astype(np.int16) + rng.integers(-3, 4, scene.shape), 0, 255).astype(np.uint8)
            writer.write(np.ascontiguousarray(noisy[:, :, ::-1]))
    writer.release()
    return path


@pytest.fixture
def scenes() -> list[np.ndarray]:
    return [blocks(240, 320, seed=s) for s in (1, 2, 3, 4)]


@pytest.mark.parametrize("codec, suffix", [("mp4v", ".mp4"), ("MJPG", ".avi")])
def test_frames_sampled_and_still_scenes_collapsed(tmp_path: Path, scenes: list[np.ndarray], codec: str, suffix: str) -> None:
    video = hash_video(write_video(tmp_path / f"v{suffix}", scenes, codec=codec), every_seconds=0.5)
    assert video.fps == pytest.approx(10)
    assert video.sampled == 8  # 40 frames, one every 5
    assert len(video.frames) == 4  # two samples per scene, collapsed to one
    assert [f.index for f in video.frames] == [0, 10, 20, 30]
    assert all(f.quality >= 50 for f in video.frames)
    still = hash_bytes(jpeg(scenes[1]))
    assert hamming(video.frames[1].pdq, still.pdq) <= 31


def test_video_matches_bank_video_and_bank_image(tmp_path: Path, scenes: list[np.ndarray], database_url: str) -> None:
    store = BankStore(database_url)
    store.create_bank("local")
    store.create_bank("images", action="hold_for_review")
    original = write_video(tmp_path / "original.mp4", scenes)
    add_video(store, "local", original, label="known video")
    matcher = Matcher(store)

    # A re-encoded copy (other codec, other bytes) with a scene dropped still matches as a video.
    copy = write_video(tmp_path / "copy.avi", scenes[:3] + [blocks(240, 320, seed=99)], codec="MJPG")
    matches = matcher.match_video(hash_video(copy))
    video_hits = [m for m in matches if m.match == "video"]
    assert len(video_hits) == 1 and video_hits[0].frames == (3, 4) and video_hits[0].label == "known video"

    # Too few shared frames: one scene of four is not the same video.
    other = write_video(tmp_path / "other.mp4", [scenes[0]] + [blocks(240, 320, seed=s) for s in (50, 51, 52)])
    assert [m for m in matcher.match_video(hash_video(other)) if m.match == "video"] == []

    # But one frame that is a banked image is enough for an image match.
    still = hash_bytes(jpeg(blocks(240, 320, seed=51)))
    store.add_entries("images", [EntrySpec(pdq=still.pdq, quality=still.quality)])
    image_hits = [m for m in matcher.match_video(hash_video(other)) if m.bank == "images"]
    assert len(image_hits) == 1 and image_hits[0].match == "pdq" and image_hits[0].action == "hold_for_review"

    # The exact same file matches by SHA-256 too.
    assert "sha256" in {m.match for m in matcher.match_video(hash_video(original))}


def test_bad_videos(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all")
    with pytest.raises(VideoError, match="notes.mp4"):
        hash_video(text)
    with pytest.raises(VideoError, match="file not found"):
        hash_video(tmp_path / "missing.mp4")
    good = write_video(tmp_path / "good.mp4", [blocks(240, 320, seed=1)])
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(VideoError, match="cut.mp4"):
        hash_video(cut)
    with pytest.raises(ValueError, match="every_seconds"):
        hash_video(good, every_seconds=0)
