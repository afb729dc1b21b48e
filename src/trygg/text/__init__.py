"""trygg.text: normalisation with an offset map back to the original, and language identification."""

from trygg.text.normalize import NormalizedText, normalize

__all__ = ["NormalizedText", "normalize"]
