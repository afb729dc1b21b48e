"""Learned conversation and author classifiers (issue 3), shipped as plain arrays + JSON.

``load_default()`` is what the engine calls: lazy, cached, and ``None`` when the shipped
artefacts are absent, so the rules-only pipeline keeps working without a model.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from trygg.model.conversation_model import ArtefactError, ConversationModel

__all__ = ["ArtefactError", "ConversationModel", "DEFAULT_ARTEFACTS", "load_default"]

#: Where the shipped model lives inside the package.
DEFAULT_ARTEFACTS = Path(__file__).resolve().parent / "artifacts"


@lru_cache(maxsize=1)
def load_default() -> ConversationModel | None:
    """The shipped model, loaded once; None if its files are not installed."""
    if not (DEFAULT_ARTEFACTS / "model.json").exists():
        return None
    return ConversationModel.load(DEFAULT_ARTEFACTS)
