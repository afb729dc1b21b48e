"""The shipped conversation / author model at inference: numpy and dicts, no scikit-learn.

PAN 2012 style, two stages, both scored incrementally so the engine pays O(message):

1. **conversation**: is this conversation, seen from this author's side, an adult working on a
   minor? The conversation score is the maximum over its authors.
2. **author**: given a suspicious conversation, is *this* author the offender (and not the
   child, or the decoy posing as one)? An author's reported score is
   ``p(conversation) * p(offender | suspicious)``.

The state kept per conversation is a few tallies per author (see :mod:`trygg.model.features`),
never the text, so it stays small and JSON-serialisable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise, repeat
from operator import itemgetter
from pathlib import Path

import numpy as np

from trygg.text.short_texts import cached_for_short_texts
from trygg.model.features import (
    FEATURE_NAMES,
    AuthorScorer,
    add_message,
    new_author,
    room_feature,
    token_char_ngrams,
    words_of,
)

#: Bumped whenever features or the artefact layout change; artefacts carry it and are checked.
FORMAT_VERSION = 1
#: Authors tracked per conversation; in big group rooms the least recently active are dropped.
MAX_AUTHORS = 64
#: Up to this many authors every author is re-scored per message; beyond, only the sender.
RESCORE_ALL_UP_TO = 8
TEXT_KINDS: tuple[str, ...] = ("words", "bigrams", "chars")
#: Distinct tokens whose words and in-vocabulary character n-grams are remembered. Chat
#: vocabulary is Zipf-distributed, so a bounded cache of this size serves nearly every token of
#: real traffic from memory; a token's terms never change, so the cache cannot go stale.
TOKEN_CACHE_SIZE = 1 << 16
#: Short messages ("ok", "lol", "where are you?") repeat verbatim in chat, so the text logit of
#: short texts (:mod:`trygg.text.short_texts`) is remembered for this many distinct texts; the
#: bound keeps it to a few megabytes.
TEXT_CACHE_SIZE = 1 << 14


class ModelState(dict):
    """One conversation's state: to JSON and to the store a plain dict (what ``new_state``
    documents), plus what is derived from it and kept in memory only.

    ``partials`` holds each author's logits summed over everything but their own text summary
    and the room size, as of their last scoring. With the text part on, a known sender's plain
    message moves only their text summary, so they are re-scored from these instead of from
    scratch. Every change to what the partials read re-scores everyone and refreshes them; a
    state read back from JSON is a plain dict and is simply scored from scratch.
    """

    __slots__ = ("partials",)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.partials: dict[str, tuple[float, float]] = {}


class ArtefactError(ValueError):
    """The model files are missing a part, or were made for another feature layout."""


@dataclass(frozen=True)
class LinearStage:
    """A standardised logistic model followed by Platt scaling: ``p = σ(a·(w·(x-μ)/σ + b) + c)``."""

    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    scale: np.ndarray
    platt_a: float
    platt_b: float

    def decision(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def proba(self, x: np.ndarray) -> np.ndarray:
        z = self.platt_a * self.decision(x) + self.platt_b
        return 1.0 / (1.0 + np.exp(-z))


class ConversationModel:
    """Text logit per message + two linear stages over author features."""

    def __init__(
        self,
        text_weights: Mapping[str, Mapping[str, float]],
        text_intercept: float,
        conversation: LinearStage,
        author: LinearStage,
        metadata: Mapping[str, object] | None = None,
    ) -> None:
        self.text_weights = {kind: dict(text_weights.get(kind, {})) for kind in TEXT_KINDS}
        self.text_intercept = float(text_intercept)
        self.conversation = conversation
        self.author = author
        self.metadata = dict(metadata or {})
        # Both stages folded into one (features x 2) product: one matrix product per message.
        stages = (conversation, author)
        self._w = np.column_stack([st.coef / st.scale for st in stages])
        self._b = np.asarray([st.intercept - float((st.mean / st.scale) @ st.coef) for st in stages])
        self._platt_a = np.asarray([st.platt_a for st in stages])
        self._platt_b = np.asarray([st.platt_b for st in stages])
        self._scorer = AuthorScorer(self._w, self._b, self._platt_a, self._platt_b)
        # Bigram weights keyed by the word pair: a message's pairs are looked up as they come,
        # without joining every pair into a string first (words hold no space, so the split is
        # exact and the pairs are the same terms).
        self._bigram_pairs = {tuple(term.split(" ")): w for term, w in self.text_weights["bigrams"].items()}
        self._token_terms = lru_cache(maxsize=TOKEN_CACHE_SIZE)(self._in_vocabulary_terms)
        self._short_text_logit = cached_for_short_texts(self._text_logit, maxsize=TEXT_CACHE_SIZE)

    # -- per message -------------------------------------------------------------------------
    def text_logit(self, normalized_text: str) -> float:
        """Logit of "this line reads like an offender's line" (English-trained).

        A pure function of the text, so short texts are served from a bounded cache.
        """
        return self._short_text_logit(normalized_text)

    def _text_logit(self, normalized_text: str) -> float:
        """The sum over the message's *distinct* terms of their weights, as
        :func:`trygg.model.features.text_terms` defines them. Neither words nor character n-grams
        cross a whitespace token, so each token's words and in-vocabulary n-grams are looked up
        once (bounded cache): the message's words are the tokens' words in order (its bigrams
        pair neighbours among them), and its n-gram set is the union of the tokens' sets — the
        same terms, without running the word pattern or building every n-gram string of every
        message again. The cached values are never handed out, only read and merged from.
        """
        words: list[str] = []
        chars: dict[str, float] = {}
        for token_words, ngrams in map(self._token_terms, normalized_text.split()):
            words += token_words
            chars.update(ngrams)  # an n-gram two tokens share counts once
        total = self.text_intercept
        total += sum(map(self.text_weights["words"].get, set(words), repeat(0.0)))
        total += sum(map(self._bigram_pairs.get, set(pairwise(words)), repeat(0.0)))
        total += sum(chars.values())
        return total

    def _in_vocabulary_terms(self, token: str) -> tuple[tuple[str, ...], dict[str, float]]:
        """The token's words, and its n-grams that have a weight with it: merging these small
        dicts is cheaper than looking each n-gram up again in the large weight table."""
        char_w = self.text_weights["chars"]
        return tuple(words_of(token)), {g: char_w[g] for g in token_char_ngrams(token) if g in char_w}

    # -- incremental conversation interface ---------------------------------------------------
    @staticmethod
    def new_state() -> dict[str, object]:
        return ModelState(authors={}, scores={}, lang={})

    @staticmethod
    def resume_state(stored: Mapping[str, object]) -> dict[str, object]:
        """A state read back from the store, made live again: the same content, with room for
        the in-memory partial sums (filled at its next scoring), so that a resumed conversation
        is scored as fast as one that never left memory."""
        return ModelState(stored)

    def update(
        self,
        state: dict[str, object],
        sender_id: str,
        normalized_text: str,
        signals: Iterable[object],
        sender_age_hint: float | None = None,
        language: str | None = None,
        language_settled: bool = False,
        prior_risk: float = 0.0,  # noqa: ARG002 - the cheap model reads every message alike
    ) -> dict[str, object]:
        """Fold one message into ``state`` (in place) and return the current scores.

        ``sender_age_hint`` is the engine's best age for the sender (e.g. the declared age);
        ``language`` the conversation's language when known. Without it the language is read
        from the signals' language tags; the text part is used only for English, the one
        language it was trained on. ``language_settled`` says that ``language`` is final: a
        conversation settled on another language never reads its text part again, so its
        messages are not scored for it (the costliest part of an update) and their text
        summaries stay as they were when it settled.
        """
        signals = list(signals)
        authors: dict[str, dict[str, object]] = state["authors"]  # type: ignore[assignment]
        scores: dict[str, list[float]] = state["scores"]  # type: ignore[assignment]
        langs: dict[str, int] = state["lang"]  # type: ignore[assignment]
        text_was_active = self._text_active(state)
        for signal in signals:
            tag = getattr(signal, "language", None)
            if tag:
                langs[tag] = langs.get(tag, 0) + 1
        if language:
            state["language"] = language
        text_active = self._text_active(state)

        known = authors.pop(sender_id, None)
        author = known or new_author()
        authors[sender_id] = author  # re-inserted last: dict order = recency
        text_logit = self.text_logit(normalized_text) if text_active or not language_settled else None
        seen_by_others = add_message(author, signals, sender_age_hint, text_logit)
        while len(authors) > MAX_AUTHORS:
            evicted = next(iter(authors))
            del authors[evicted]
            scores.pop(evicted, None)

        scorer = self._scorer
        partials = state.partials if isinstance(state, ModelState) else None
        if len(authors) > RESCORE_ALL_UP_TO:
            targets = [sender_id]
            partials = None  # the others' are not kept current beyond this size
        elif (
            known is not None
            and text_active == text_was_active
            and not seen_by_others
            and scores.keys() >= authors.keys()  # everyone has a stored score
        ):
            # Everyone else's features are exactly what they were at their last scoring: the
            # other side's text is not a feature, and the sender's counts, ages, the room size
            # and the text switch did not change. Their stored scores are the scores. So is the
            # sender's with the text part off: its text summary, the one thing that moved, then
            # reads as zeros (most non-English messages take this path and score nobody). With
            # it on, the sender's partial sums still hold: only the text summary is added anew.
            if not text_active:
                targets = []
            elif partials is not None and sender_id in partials:
                targets = []
                scores[sender_id] = scorer.finish(partials[sender_id], author, True, room_feature(len(authors)))
            else:
                targets = [sender_id]
        else:
            targets = list(authors)
        if targets:
            room = room_feature(len(authors))
            for uid, partial in zip(targets, scorer.partials(authors, targets, text_active)):
                scores[uid] = scorer.finish(partial, authors[uid], text_active, room)
                if partials is not None:
                    partials[uid] = partial
        conversation = max(map(itemgetter(0), scores.values()))
        return {
            "conversation": conversation,
            "authors": {uid: conversation * s[1] for uid, s in scores.items()},
        }

    @staticmethod
    def _text_active(state: Mapping[str, object]) -> bool:
        language = state.get("language")
        if not language:
            langs: dict[str, int] = state["lang"]  # type: ignore[assignment]
            language = max(langs, key=lambda k: langs[k]) if langs else None
        return language == "en"

    # -- artefacts -----------------------------------------------------------------------------
    def save(self, folder: Path | str) -> None:
        """Write ``model.npz`` (arrays only) and ``model.json`` (vocabulary and metadata)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        vocab: dict[str, list[str]] = {}
        for kind in TEXT_KINDS:
            terms = sorted(self.text_weights[kind])
            vocab[kind] = terms
            arrays[f"text_{kind}"] = np.asarray([self.text_weights[kind][t] for t in terms], dtype=np.float32)
        for name, stage in (("conversation", self.conversation), ("author", self.author)):
            arrays[f"{name}_coef"] = stage.coef.astype(np.float64)
            arrays[f"{name}_mean"] = stage.mean.astype(np.float64)
            arrays[f"{name}_scale"] = stage.scale.astype(np.float64)
            arrays[f"{name}_scalars"] = np.asarray([stage.intercept, stage.platt_a, stage.platt_b], dtype=np.float64)
        arrays["text_intercept"] = np.asarray([self.text_intercept], dtype=np.float64)
        np.savez_compressed(folder / "model.npz", **arrays)
        meta = dict(self.metadata)
        meta.update({"format_version": FORMAT_VERSION, "feature_names": list(FEATURE_NAMES), "vocabulary": vocab})
        (folder / "model.json").write_text(json.dumps(meta, ensure_ascii=False, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path | str) -> "ConversationModel":
        """Load artefacts written by :meth:`save`; never unpickles anything."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
            with np.load(folder / "model.npz", allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
        except FileNotFoundError as exc:
            raise ArtefactError(f"model artefact missing: {exc.filename}") from None
        if meta.get("format_version") != FORMAT_VERSION:
            raise ArtefactError(
                f"model format {meta.get('format_version')!r} in {folder}; this trygg reads {FORMAT_VERSION}"
            )
        if meta.get("feature_names") != list(FEATURE_NAMES):
            raise ArtefactError(f"model in {folder} was trained on other features; retrain with `trygg train`")
        try:
            text = {}
            for kind in TEXT_KINDS:
                terms, weights = meta["vocabulary"][kind], arrays[f"text_{kind}"]
                if len(terms) != len(weights):
                    raise ArtefactError(f"{kind}: {len(terms)} terms but {len(weights)} weights")
                text[kind] = dict(zip(terms, weights.tolist()))
            stages = {}
            for name in ("conversation", "author"):
                intercept, a, b = arrays[f"{name}_scalars"].tolist()
                stages[name] = LinearStage(
                    arrays[f"{name}_coef"], intercept, arrays[f"{name}_mean"], arrays[f"{name}_scale"], a, b
                )
                if stages[name].coef.shape != (len(FEATURE_NAMES),):
                    raise ArtefactError(f"{name}_coef has shape {stages[name].coef.shape}")
            intercept = float(arrays["text_intercept"][0])
        except KeyError as exc:
            raise ArtefactError(f"model artefact in {folder} lacks {exc}") from None
        meta.pop("vocabulary")
        return cls(text, intercept, stages["conversation"], stages["author"], meta)
