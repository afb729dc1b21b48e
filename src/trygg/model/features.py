"""Features of the learned model, computed the same way at training and at inference.

Two levels, because chat style is not grooming:

* **Text terms** of one normalised message (word uni/bi-grams and character 3–5-grams inside
  word boundaries). A message-level linear model turns them into one logit: "does this line read
  like an offender's line". It is trained on English only, so it is switched off for other
  languages rather than trusted where it has never seen data.
* **Author features** over the conversation so far: signal-family counts for this author and
  for the other side, the age picture (stated / declared ages, an adult talking to a minor), the
  tactic stages, summaries of this author's text logits, and the room size. The *other* side's
  text is deliberately not a feature: how the other person writes is chat style, not evidence
  that this author grooms them (an early version leaned on it and flagged chat rooms). These are what carry across languages; the
  interactions with "the other side is a minor" are spelled out because a linear model cannot
  form products by itself, and a tactic aimed at a minor is what separates grooming from adult
  flirting.

Everything here is plain Python and numpy so inference needs no scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import numpy as np

from trygg.taxonomy import SIGNAL_FAMILIES, STAGE_FAMILIES

_WORD = re.compile(r"\w+")

#: Character n-gram lengths (inside word boundaries, like scikit-learn's ``char_wb``).
CHAR_NGRAMS: tuple[int, ...] = (3, 4, 5)
#: Stated ages at or below this are a minor; at or above ``ADULT_AGE`` an adult.
MINOR_MAX_AGE = 17
ADULT_AGE = 18
#: Text logits are clipped so that one odd message cannot dominate an author's summary.
TEXT_CLIP = 8.0

#: Families grouped into grooming stages: the one taxonomy the rules read too.
STAGES: dict[str, tuple[str, ...]] = STAGE_FAMILIES
#: Families that are tactics when aimed at a minor (not the minor's own disclosure).
TACTICS: tuple[str, ...] = tuple(f for f in SIGNAL_FAMILIES if f not in ("age_disclosure",))
_FAMILY_INDEX = {name: i for i, name in enumerate(SIGNAL_FAMILIES)}
#: Families counted as features. ``age_disclosure`` is not: what a stated age *says* enters
#: through the age picture, and its count would tell a chat where ages are typed (the
#: Perverted-Justice decoys) from one where they are declared on the account — a data-set
#: artefact, not grooming.
COUNTED: tuple[str, ...] = tuple(f for f in SIGNAL_FAMILIES if f != "age_disclosure")
_COUNTED_INDEX = [_FAMILY_INDEX[f] for f in COUNTED]


def text_terms(text: str) -> tuple[list[str], list[str], list[str]]:
    """Words, word bigrams and character n-grams of one normalised message.

    The same function builds the training matrix and scores at inference, so the two cannot drift.
    """
    words = words_of(text)
    bigrams = [f"{a} {b}" for a, b in zip(words, words[1:])]
    chars: list[str] = []
    for token in text.split():
        chars += token_char_ngrams(token)
    return words, bigrams, chars


def words_of(text: str) -> list[str]:
    """The word terms of :func:`text_terms` (bigrams are pairs of neighbours among them)."""
    return _WORD.findall(text)


def token_char_ngrams(token: str) -> list[str]:
    """Character n-grams of one whitespace token padded with a space each side (``char_wb``).

    Apart so that inference can look a token's n-grams up once: they never cross a token.
    """
    padded = f" {token} "
    size = len(padded)
    grams: list[str] = []
    for n in CHAR_NGRAMS:
        if size < n:
            break
        grams += [padded[i : i + n] for i in range(size - n + 1)]
    return grams


def _stated_ages(signals: Iterable[object]) -> list[float]:
    ages: list[float] = []
    for signal in signals:
        if getattr(signal, "name", None) == "age_disclosure":
            value = getattr(signal, "value", None)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and 5 <= value <= 99:
                ages.append(float(value))
    return ages


def new_author() -> dict[str, object]:
    """Running tallies for one author: small, JSON-serialisable, updated in O(message)."""
    return {
        "n": 0,
        "fam": [0] * len(SIGNAL_FAMILIES),
        "age_lo": None,
        "age_hi": None,
        "hint": None,
        "tsum": 0.0,
        "tmax": -TEXT_CLIP,
        "thigh": 0,
        "tn": 0,
    }


def add_message(
    author: dict[str, object],
    signals: Iterable[object],
    sender_age_hint: float | None,
    text_logit: float | None,
) -> bool:
    """Fold one message of this author into its tallies (in place).

    Returns whether anything the *other* authors' features read (family counts, the age picture)
    changed, so that inference re-scores them only then; the text summary is not read by them.
    """
    author["n"] = int(author["n"]) + 1  # type: ignore[arg-type]
    seen_by_others = False
    signals = list(signals)
    if signals:
        fam: list[int] = author["fam"]  # type: ignore[assignment]
        for signal in signals:
            index = _FAMILY_INDEX.get(getattr(signal, "name", ""))
            if index is not None:
                fam[index] += 1
                seen_by_others = True
        for age in _stated_ages(signals):
            lo, hi = author["age_lo"], author["age_hi"]
            new_lo = age if lo is None else min(float(lo), age)  # type: ignore[arg-type]
            new_hi = age if hi is None else max(float(hi), age)  # type: ignore[arg-type]
            seen_by_others = seen_by_others or new_lo != lo or new_hi != hi
            author["age_lo"], author["age_hi"] = new_lo, new_hi
    if sender_age_hint is not None:
        hint = float(sender_age_hint)
        seen_by_others = seen_by_others or hint != author["hint"]
        author["hint"] = hint
    if text_logit is not None:
        logit = max(-TEXT_CLIP, min(TEXT_CLIP, float(text_logit)))
        author["tsum"] = float(author["tsum"]) + logit  # type: ignore[arg-type]
        author["tmax"] = max(float(author["tmax"]), logit)  # type: ignore[arg-type]
        author["thigh"] = int(author["thigh"]) + (1 if logit > 0.0 else 0)  # type: ignore[arg-type]
        author["tn"] = int(author["tn"]) + 1  # type: ignore[arg-type]
    return seen_by_others


_NO_AGE: tuple[bool, bool, float | None, float | None] = (False, False, None, None)


def _ages(author: Mapping[str, object]) -> tuple[bool, bool, float | None, float | None]:
    """(minor indicated, adult indicated, lowest age, highest age) from stated ages and the hint."""
    known = (author["age_lo"], author["age_hi"], author["hint"])
    if known == (None, None, None):  # most authors never state an age: no list to build
        return _NO_AGE
    values = [float(v) for v in known if v is not None]  # type: ignore[arg-type]
    lo, hi = min(values), max(values)
    return lo <= MINOR_MAX_AGE, hi >= ADULT_AGE, lo, hi


_STAGE_INDEX = [[_FAMILY_INDEX[f] for f in families] for families in STAGES.values()]
#: The stage logs of an author without any family count.
_NO_STAGES = [0.0] * len(_STAGE_INDEX)
_TACTIC_INDEX = [_FAMILY_INDEX[f] for f in TACTICS]
_log1p = math.log1p


FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"self_{f}" for f in COUNTED)
    + tuple(f"other_{f}" for f in COUNTED)
    + tuple(f"self_stage_{s}" for s in STAGES)
    + tuple(f"other_stage_{s}" for s in STAGES)
    + (
        "self_breadth",
        "self_minor",
        "self_adult",
        "other_minor",
        "other_adult",
        "adult_with_minor",
        "age_gap",
        "self_age_contradiction",
        "tactics_at_minor",
        "sexualisation_at_minor",
        "isolation_at_minor",
        "escalation_at_minor",
        "tactics_at_unknown_age",
        "text_active",
        "self_text_mean",
        "self_text_max",
        "self_text_high_share",
        "room_size",
    )
)



def _text_summary(author: dict[str, object], text_active: bool) -> tuple[float, float, float]:
    """Mean, max and share of positive message logits of one author (zeros with text off);
    shared by the training features and the fast scorer so they cannot drift apart."""
    count = int(author["tn"])  # type: ignore[arg-type]
    if not text_active or count <= 0:
        return 0.0, 0.0, 0.0
    return (
        float(author["tsum"]) / count,  # type: ignore[arg-type]
        float(author["tmax"]),  # type: ignore[arg-type]
        int(author["thigh"]) / count,  # type: ignore[arg-type]
    )

def author_features(
    authors: Mapping[str, Mapping[str, object]], author_id: str, text_active: bool
) -> np.ndarray:
    """The feature vector of one author against everyone else in the conversation so far."""
    me = authors[author_id]
    others = [a for uid, a in authors.items() if uid != author_id]
    fam_me: list[int] = me["fam"]  # type: ignore[assignment]
    if len(others) == 1:
        fam_other: list[int] = others[0]["fam"]  # type: ignore[assignment]
    elif others:
        fam_other = [sum(column) for column in zip(*(a["fam"] for a in others))]  # type: ignore[misc]
    else:
        fam_other = [0] * len(fam_me)

    self_minor, self_adult, self_lo, self_hi = _ages(me)
    other_minor = other_adult = False
    other_lo: float | None = None
    for other in others:
        minor, adult, lo, _hi = _ages(other)
        other_minor |= minor
        other_adult |= adult
        if minor and lo is not None:
            other_lo = lo if other_lo is None else min(other_lo, lo)
    adult_with_minor = self_adult and not self_minor and other_minor
    gap = 0.0
    if self_hi is not None and other_lo is not None and other_minor:
        gap = max(0.0, self_hi - other_lo) / 10.0
    contradiction = self_minor and self_adult

    tactics = _log1p(sum(fam_me[i] for i in _TACTIC_INDEX))
    stage_me = [_log1p(sum(fam_me[i] for i in index)) for index in _STAGE_INDEX]
    stage_other = [_log1p(sum(fam_other[i] for i in index)) for index in _STAGE_INDEX]
    age_unknown = not other_minor and not other_adult

    text_mean, text_max, text_high = _text_summary(me, text_active)
    minor = 1.0 if other_minor else 0.0
    row = [_log1p(fam_me[i]) for i in _COUNTED_INDEX]
    row += [_log1p(fam_other[i]) for i in _COUNTED_INDEX]
    row += stage_me
    row += stage_other
    row += [
        sum(1 for i in _COUNTED_INDEX if fam_me[i]) / len(COUNTED),
        float(self_minor),
        float(self_adult),
        minor,
        float(other_adult),
        float(adult_with_minor),
        min(gap, 5.0),
        float(contradiction),
        tactics * minor,
        stage_me[2] * minor,
        stage_me[1] * minor,
        stage_me[3] * minor,
        tactics * (1.0 if age_unknown else 0.0),
        1.0 if text_active else 0.0,
        text_mean / TEXT_CLIP,
        text_max / TEXT_CLIP,
        text_high,
        math.log(max(1, len(others))),
    ]
    return np.asarray(row, dtype=np.float64)



def room_feature(authors: int) -> float:
    """The room-size feature of a conversation with this many authors."""
    return math.log(max(1, authors - 1))


def _sigmoid(t: float) -> float:
    if t >= 0.0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)  # no overflow for very negative t
    return e / (1.0 + e)


class AuthorScorer:
    """:func:`author_features` folded into a linear model's output, for several authors at once.

    Why: inference re-scores every author of a conversation on every message, and building
    each feature row (some fifty ``log1p`` and sums, then a matrix product) cost more than
    everything else the engine does per message; numpy does not help at this size (a few
    microseconds of call overhead per operation). Most features are zero — nearly every family
    count is — and a zero feature adds nothing to ``w·x``, so this walks the family counts once,
    adds the weights of what is non-zero, and applies the Platt scaling with ``math``. The
    result equals ``σ(a·(author_features(...) @ w + b) + c)`` up to float rounding of the sum
    order; ``tests/test_model_fast_path.py`` holds the two together.
    """

    def __init__(self, weights: np.ndarray, bias: np.ndarray, platt_a: np.ndarray, platt_b: np.ndarray) -> None:
        w = [(float(a), float(b)) for a, b in np.asarray(weights, dtype=np.float64).tolist()]
        if len(w) != len(FEATURE_NAMES):
            raise ValueError(f"{len(w)} weight rows for {len(FEATURE_NAMES)} features")
        self._b = (float(bias[0]), float(bias[1]))
        self._a = (float(platt_a[0]), float(platt_a[1]))
        self._c = (float(platt_b[0]), float(platt_b[1]))
        counted, stages = len(COUNTED), len(STAGES)
        position = {family: k for k, family in enumerate(COUNTED)}
        tactics = set(_TACTIC_INDEX)
        # Per family: its self / other count weights (zero when not counted), whether it counts
        # towards breadth and tactics, and the stages it belongs to.
        self._families = []
        for f, name in enumerate(SIGNAL_FAMILIES):
            k = position.get(name)
            self._families.append(
                (
                    w[k] if k is not None else (0.0, 0.0),
                    w[counted + k] if k is not None else (0.0, 0.0),
                    k is not None,
                    f in tactics,
                    tuple(s for s, index in enumerate(_STAGE_INDEX) if f in index),
                )
            )
        at = 2 * counted
        self._stage_self = w[at : at + stages]
        self._stage_other = w[at + stages : at + 2 * stages]
        rest = w[at + 2 * stages :]  # self_breadth ... room_size, in FEATURE_NAMES order
        # The last four (text mean / max / high share, room size) are added apart, after the rest,
        # so that a sender whose text summary alone moved is re-scored from its partial sums.
        self._rest, self._tail = rest[:-4], rest[-4:]
        self._counted = float(counted)

    def probabilities(
        self, authors: Mapping[str, Mapping[str, object]], targets: list[str], text_active: bool
    ) -> list[list[float]]:
        """Per target (ids in ``authors``): [p(conversation), p(offender | suspicious)]."""
        room = room_feature(len(authors))
        partials = self.partials(authors, targets, text_active)
        return [self.finish(partial, authors[uid], text_active, room) for uid, partial in zip(targets, partials)]

    def partials(
        self, authors: Mapping[str, Mapping[str, object]], targets: list[str], text_active: bool
    ) -> list[tuple[float, float]]:
        """Per target, both stages' logits summed over every feature but the author's own text
        summary and the room size (:meth:`finish` adds those, in feature order)."""
        ids = list(authors)
        everyone = list(authors.values())
        fams: list[list[int]] = [a["fam"] for a in everyone]  # type: ignore[misc]
        any_count = any(map(any, fams))  # most conversations have no signal yet: nothing to walk
        totals = [sum(column) for column in zip(*fams)] if any_count else fams[0]
        ages = [_ages(a) for a in everyone]
        positions = range(len(ids)) if targets == ids else [ids.index(uid) for uid in targets]
        b0, b1 = self._b
        out: list[tuple[float, float]] = []
        for position in positions:
            if any_count:
                z0, z1, stage_log, tactic_count, breadth = self._family_terms(fams[position], totals, b0, b1)
            else:
                z0, z1, stage_log, tactic_count, breadth = b0, b1, _NO_STAGES, 0, 0

            self_minor, self_adult, _self_lo, self_hi = ages[position]
            other_minor = other_adult = False
            other_lo: float | None = None
            for j, (minor, adult, lo, _hi) in enumerate(ages):
                if j == position:
                    continue
                other_minor |= minor
                other_adult |= adult
                if minor and lo is not None:
                    other_lo = lo if other_lo is None else min(other_lo, lo)
            gap = 0.0
            if self_hi is not None and other_lo is not None and other_minor:
                gap = max(0.0, self_hi - other_lo) / 10.0
            minor = 1.0 if other_minor else 0.0
            tactics = _log1p(tactic_count)
            rest = (
                breadth / self._counted,
                float(self_minor),
                float(self_adult),
                minor,
                float(other_adult),
                float(self_adult and not self_minor and other_minor),
                min(gap, 5.0),
                float(self_minor and self_adult),
                tactics * minor,
                stage_log[2] * minor,
                stage_log[1] * minor,
                stage_log[3] * minor,
                tactics * (0.0 if other_minor or other_adult else 1.0),
                1.0 if text_active else 0.0,
            )
            for value, (w0, w1) in zip(rest, self._rest):
                if value:
                    z0 += value * w0
                    z1 += value * w1
            out.append((z0, z1))
        return out

    def finish(
        self, partial: tuple[float, float], author: Mapping[str, object], text_active: bool, room: float
    ) -> list[float]:
        """[p(conversation), p(offender | suspicious)] of an author from its :meth:`partials`."""
        z0, z1 = partial
        text_mean, text_max, text_high = _text_summary(author, text_active)
        for value, (w0, w1) in zip((text_mean / TEXT_CLIP, text_max / TEXT_CLIP, text_high, room), self._tail):
            if value:
                z0 += value * w0
                z1 += value * w1
        (a0, a1), (c0, c1) = self._a, self._c
        return [_sigmoid(a0 * z0 + c0), _sigmoid(a1 * z1 + c1)]

    def _family_terms(
        self, fam: list[int], totals: list[int], z0: float, z1: float
    ) -> tuple[float, float, list[float], int, int]:
        """Add the family and stage terms of one author (own counts ``fam``, everyone's
        ``totals``) to ``z0, z1``; also returns the stage logs, tactic count and breadth that
        the interaction features read."""
        stage_me = [0] * len(_STAGE_INDEX)
        stage_other = [0] * len(_STAGE_INDEX)
        tactic_count = 0
        breadth = 0
        for f, (own_w, other_w, counted, tactic, stages) in enumerate(self._families):
            mine = fam[f]
            theirs = totals[f] - mine
            if mine:
                value = _log1p(mine)
                z0 += value * own_w[0]
                z1 += value * own_w[1]
                breadth += counted
                if tactic:
                    tactic_count += mine
                for s in stages:
                    stage_me[s] += mine
            if theirs:
                value = _log1p(theirs)
                z0 += value * other_w[0]
                z1 += value * other_w[1]
                for s in stages:
                    stage_other[s] += theirs
        stage_log = [_log1p(v) if v else 0.0 for v in stage_me]
        for value, (w0, w1) in zip(stage_log, self._stage_self):
            if value:
                z0 += value * w0
                z1 += value * w1
        for v, (w0, w1) in zip(stage_other, self._stage_other):
            if v:
                value = _log1p(v)
                z0 += value * w0
                z1 += value * w1
        return z0, z1, stage_log, tactic_count, breadth
