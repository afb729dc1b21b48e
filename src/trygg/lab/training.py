"""Training of the conversation / author model (scikit-learn, the ``train`` extra).

Why it is built this way:

* Conversations are replayed through the same normaliser and language-pack signals the engine
  uses, so the model sees at training time exactly what it will see at inference.
* Every split is **grouped**: by offender (one Perverted-Justice offender never sits in both
  train and test) and by conversation (never by message), see :func:`groups_for`.
* The message-level text model feeds the author features through **out-of-fold** logits, so the
  second stage learns how far text can be trusted on conversations the text model has not seen.
* English conversations are also shown to the second stage **text-blind** (text features
  zeroed), so the signal and age features must carry the decision on their own — that is what
  lets the model work for Swedish, where no predatory training data exists.
* Benign conversations get declared ages (teen-teen, adult-adult, adult-teen) in a share of
  cases, so an age gap alone, or two teens chatting, is not learnt as harm.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from trygg.events import AccountEvent, MessageEvent
from trygg.model.conversation_model import TEXT_KINDS, LinearStage
from trygg.model.features import FEATURE_NAMES, add_message, author_features, new_author, text_terms

SEED = 20260329
#: Feature columns zeroed in a text-blind copy.
_TEXT_COLUMNS = [FEATURE_NAMES.index(n) for n in FEATURE_NAMES if "text" in n]
#: Where in a conversation the second stage takes training snapshots (message counts).
SNAPSHOTS: tuple[int, ...] = (6, 12, 24, 48, 96, 192, 384)


@dataclass
class Message:
    sender: str
    text: str  # normalised
    signals: list[object]
    hint: float | None


@dataclass
class Replayed:
    """One conversation after normalisation and signal detection, ready for features."""

    conversation_id: str
    source: str
    group: str
    harmful: bool
    offender: str | None
    language: str
    messages: list[Message] = field(default_factory=list)
    #: Messages the text stage may learn from (the rest still feed the second stage); 0 = none,
    #: e.g. for chat-room windows whose messages are already in the whole-room conversation.
    text_messages: int | None = None


def replay(
    conversation_id: str,
    events: Iterable[object],
    label: dict[str, object],
    source: str,
    group: str | None = None,
    max_messages: int | None = None,
) -> Replayed:
    """Normalise each message and detect its signals, as the engine would."""
    from trygg.signals import detect_signals
    from trygg.text.normalize import normalize

    events = list(events)
    declared = {e.user_id: float(e.declared_age) for e in events if isinstance(e, AccountEvent) and e.declared_age is not None}
    messages = [e for e in events if isinstance(e, MessageEvent)]
    if max_messages is not None:
        messages = messages[:max_messages]
    language = str(label.get("language") or "") or _language([m.text for m in messages[:30]])
    out = Replayed(
        conversation_id,
        source,
        group or conversation_id,
        str(label.get("label", "benign")) != "benign",
        label.get("offender_id") or None,  # type: ignore[arg-type]
        language,
    )
    for message in messages:
        normalized = normalize(message.text)
        signals = detect_signals(normalized, message.event_id, language)
        out.messages.append(Message(message.sender_id, normalized.text, signals, declared.get(message.sender_id)))
    return out


def _language(texts: Sequence[str]) -> str:
    from trygg.text.language import detect_language

    return detect_language(" ".join(texts))


def groups_for(conversations: Sequence[tuple[str, str | None]]) -> list[str]:
    """Split groups from (conversation id, offender id): conversations sharing an offender join
    one group, so no offender is ever on both sides of a split (union-find over both ids)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for cid, offender in conversations:
        a = find(f"c:{cid}")
        if offender:
            b = find(f"o:{offender}")
            if a != b:
                parent[max(a, b)] = min(a, b)
    return [find(f"c:{cid}") for cid, _ in conversations]


# -- text stage -------------------------------------------------------------------------------


@dataclass
class TextData:
    vocab: dict[str, dict[str, int]]
    matrix: object  # scipy.sparse.csr_matrix, rows = messages of `index`
    labels: np.ndarray
    groups: np.ndarray
    index: list[tuple[int, int]]  # (conversation, message) per row


def build_vocabulary(texts: Iterable[str], sizes: dict[str, int], min_df: int = 3) -> dict[str, dict[str, int]]:
    """Most frequent terms per kind (document frequency, ties broken alphabetically: deterministic)."""
    counters = {kind: Counter() for kind in TEXT_KINDS}
    for text in texts:
        for kind, terms in zip(TEXT_KINDS, text_terms(text)):
            counters[kind].update(set(terms))
    vocab = {}
    for kind in TEXT_KINDS:
        ranked = sorted((t for t, c in counters[kind].items() if c >= min_df), key=lambda t: (-counters[kind][t], t))
        vocab[kind] = {t: i for i, t in enumerate(sorted(ranked[: sizes[kind]]))}
    return vocab


def text_matrix(texts: Sequence[str], vocab: dict[str, dict[str, int]]):
    """Binary presence matrix [words | bigrams | chars], the layout the inference sums over."""
    from scipy.sparse import csr_matrix

    offsets, start = {}, 0
    for kind in TEXT_KINDS:
        offsets[kind] = start
        start += len(vocab[kind])
    indptr, indices = [0], []
    for text in texts:
        cols = set()
        for kind, terms in zip(TEXT_KINDS, text_terms(text)):
            table, base = vocab[kind], offsets[kind]
            cols.update(base + table[t] for t in terms if t in table)
        indices.extend(sorted(cols))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float64)
    return csr_matrix((data, np.asarray(indices, dtype=np.int64), np.asarray(indptr)), shape=(len(texts), start))


def fit_text(matrix, labels: np.ndarray, weights: np.ndarray, alpha: float = 2e-5):
    """Logistic loss by averaged SGD: seconds on ~10^5 messages where an exact solver takes a
    minute, and fixed ``random_state`` keeps it reproducible. Its logits are only an input to the
    second stage, which is calibrated, so exact optimisation buys nothing here."""
    from sklearn.linear_model import SGDClassifier

    clf = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=20, tol=None, average=True, random_state=SEED)
    clf.fit(matrix, labels, sample_weight=weights)
    return clf


def text_weights_from(clf, vocab: dict[str, dict[str, int]]) -> tuple[dict[str, dict[str, float]], float]:
    """Per-term weights for inference; zero-weight terms are dropped (they change no sum)."""
    coef = clf.coef_.ravel()
    out, base = {}, 0
    for kind in TEXT_KINDS:
        table = vocab[kind]
        out[kind] = {t: float(np.float32(coef[base + i])) for t, i in table.items() if abs(coef[base + i]) > 1e-6}
        base += len(table)
    return out, float(clf.intercept_[0])


# -- second stage -----------------------------------------------------------------------------


@dataclass
class StageRows:
    x: np.ndarray
    conversation_label: np.ndarray
    offender_label: np.ndarray  # 1 offender, 0 other author of a harmful conversation, -1 benign
    weight: np.ndarray
    group: np.ndarray


def conversation_rows(conv: Replayed, logits: Sequence[float] | None, snapshots: Sequence[int]) -> list[tuple[str, np.ndarray]]:
    """Author feature rows at each snapshot (message count), replaying tallies like ``update``."""
    authors: dict[str, dict[str, object]] = {}
    text_active = conv.language == "en" and logits is not None
    wanted = {min(s, len(conv.messages)) for s in snapshots}
    out = []
    for i, message in enumerate(conv.messages):
        author = authors.pop(message.sender, None) or new_author()
        authors[message.sender] = author
        add_message(author, message.signals, message.hint, logits[i] if logits is not None else None)
        if i + 1 in wanted:
            for uid in authors:
                out.append((uid, author_features(authors, uid, text_active)))
    return out


def text_blind(x: np.ndarray) -> np.ndarray:
    """A copy of feature rows with the text features zeroed (as for a language without text)."""
    x = x.copy()
    x[..., _TEXT_COLUMNS] = 0.0
    return x


def stage_rows(
    conversations: Sequence[Replayed],
    logits: Sequence[Sequence[float] | None],
    source_weights: dict[str, float],
) -> StageRows:
    """Training rows of the second stage, with text-blind copies of English conversations."""
    xs, yc, yo, w, g, src = [], [], [], [], [], []
    for conv, conv_logits in zip(conversations, logits):
        rows = conversation_rows(conv, conv_logits, SNAPSHOTS)
        copies = [rows]
        if conv.language == "en" and conv_logits is not None:
            copies.append([(uid, text_blind(row)) for uid, row in rows])
        for copy in copies:
            for uid, row in copy:
                offender = conv.harmful and uid == conv.offender
                if conv.harmful and not offender and conv.offender is not None:
                    yc.append(-1)  # the other side of a harmful chat: not a conversation-stage row
                else:
                    yc.append(1 if conv.harmful else 0)
                yo.append((1 if offender else 0) if conv.harmful else -1)
                xs.append(row)
                g.append(conv.group)
                src.append(conv.source)
    counts = Counter(src)
    w = [source_weights.get(s, 1.0) / counts[s] for s in src]
    return StageRows(np.vstack(xs), np.asarray(yc), np.asarray(yo), np.asarray(w), np.asarray(g))


def fit_stage(x: np.ndarray, y: np.ndarray, weight: np.ndarray, c: float = 0.3) -> LinearStage:
    """Standardised logistic regression; Platt scaling is set separately on held-out rows."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    clf = LogisticRegression(C=c, solver="lbfgs", max_iter=2000, class_weight="balanced")
    clf.fit((x - mean) / scale, y, sample_weight=weight / weight.mean())
    return LinearStage(clf.coef_.ravel().copy(), float(clf.intercept_[0]), mean, scale, 1.0, 0.0)


def platt(decisions: np.ndarray, labels: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """Sigmoid calibration of held-out decision values (Platt 1999), class-balanced weights."""
    from sklearn.linear_model import LogisticRegression

    pos = labels == 1
    w = np.where(pos, 0.5 / max(weight[pos].sum(), 1e-12), 0.5 / max(weight[~pos].sum(), 1e-12)) * weight
    clf = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000)
    clf.fit(decisions.reshape(-1, 1), labels, sample_weight=w / w.mean())
    return float(clf.coef_[0, 0]), float(clf.intercept_[0])


def with_platt(stage: LinearStage, a: float, b: float) -> LinearStage:
    return LinearStage(stage.coef, stage.intercept, stage.mean, stage.scale, a, b)
