"""Benign synthetic pictures for the media tests (no test here; imported by test_media_*).

Upsampled random colour blocks: featureful enough for PDQ quality 100, and plainly not
photographs of anything.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def blocks(height: int = 300, width: int = 400, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))


def jpeg(rgb: np.ndarray, quality: int = 95) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality)
    return out.getvalue()
