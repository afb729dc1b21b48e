"""Fit the two-stage model with grouped cross-validation and report held-out figures.

The report is computed with the real inference code (:meth:`ConversationModel.update`) on
conversations the fold's models never saw, so the figures are what the shipped code does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from trygg.model.conversation_model import ConversationModel, LinearStage
from trygg.lab.training import (
    Replayed,
    build_vocabulary,
    fit_stage,
    fit_text,
    platt,
    stage_rows,
    text_blind,
    text_matrix,
    text_weights_from,
    with_platt,
)

#: A conversation is "flagged" by the model alone when its score reaches this at any message.
FLAG_THRESHOLD = 0.5
VOCAB_SIZES = {"words": 10000, "bigrams": 6000, "chars": 20000}
#: Logit added to the conversation stage after class-balanced Platt scaling. Harm is far rarer
#: than benign chat in any real stream, and the engine reads p = 0.5 as "no opinion"; one logit
#: toward benign (prior odds about 1:2.7) kept parent/child hard negatives of the scenarios from
#: being pushed over the alert line by the model while pj recall held (see docs/model-card.md).
PRIOR_LOGIT_SHIFT = -1.0


@dataclass
class Outcome:
    conversation_id: str
    source: str
    language: str
    harmful: bool
    offender: str | None
    flagged: bool
    first_flag: int | None
    offender_guess: str | None
    flagged_messages: int
    messages: int


def score_conversation(model: ConversationModel, conv: Replayed) -> Outcome:
    """Stream one conversation through the model as the engine would."""
    state = model.new_state()
    first, flagged_messages, result = None, 0, None
    for i, message in enumerate(conv.messages):
        result = model.update(state, message.sender, message.text, message.signals, message.hint, language=conv.language)
        if result["conversation"] >= FLAG_THRESHOLD:
            flagged_messages += 1
            if first is None:
                first = i
    guess = None
    if result and result["authors"]:
        authors = result["authors"]
        guess = max(sorted(authors), key=lambda uid: authors[uid])
    return Outcome(
        conv.conversation_id, conv.source, conv.language, conv.harmful, conv.offender,
        first is not None, first, guess, flagged_messages, len(conv.messages),
    )


def _text_role(conv: Replayed, sender: str) -> str:
    return f"{conv.source}-offender" if conv.harmful and sender == conv.offender else conv.source


def _text_data(conversations: Sequence[Replayed], role_weights: dict[str, float]):
    """Every English message (all get out-of-fold logits), and which of them the text stage
    learns from, with per-role weights that sum to each role's share."""
    rows, labels, roles, learn = [], [], [], []
    for ci, conv in enumerate(conversations):
        if conv.language != "en":
            continue
        limit = len(conv.messages) if conv.text_messages is None else conv.text_messages
        for mi, message in enumerate(conv.messages):
            role = _text_role(conv, message.sender)
            rows.append((ci, mi))
            labels.append(1 if role.endswith("-offender") else 0)
            roles.append(role)
            learn.append(mi < limit)
    learn_arr = np.asarray(learn, dtype=bool)
    counts = Counter(r for r, keep in zip(roles, learn) if keep)
    weights = np.asarray(
        [role_weights.get(r, 1.0 if r.endswith("-offender") else 0.5) / max(counts[r], 1) for r in roles],
        dtype=np.float64,
    )
    if learn_arr.any():
        weights *= learn_arr.sum() / weights[learn_arr].sum()
    return rows, np.asarray(labels), weights, learn_arr


@dataclass
class Fitted:
    model: ConversationModel
    cv_outcomes: list[Outcome]
    #: The fold models and each conversation's fold, so a caller can measure the whole engine
    #: on conversations its model never saw.
    fold_models: list[ConversationModel]
    fold_of: dict[str, int]


def fit(
    conversations: Sequence[Replayed],
    groups: Sequence[str],
    source_weights: dict[str, float],
    text_role_weights: dict[str, float],
    folds: int = 5,
    progress: Callable[[str], None] = lambda _msg: None,
    metadata: dict[str, object] | None = None,
) -> Fitted:
    """Grouped K-fold: out-of-fold text logits → second stage → Platt → held-out outcomes; then
    the final model on everything."""
    from sklearn.model_selection import GroupKFold

    groups_arr = np.asarray(groups)
    text_rows, text_labels, text_w, learn = _text_data(conversations, text_role_weights)
    texts = [conversations[ci].messages[mi].text for ci, mi in text_rows]
    progress(f"vocabulary over {int(learn.sum())} of {len(texts)} English messages")
    vocab = build_vocabulary((t for t, keep in zip(texts, learn) if keep), VOCAB_SIZES)
    matrix = text_matrix(texts, vocab)
    row_conv = np.asarray([ci for ci, _ in text_rows], dtype=int)
    has_text = bool(learn.any()) and len(set(text_labels[learn].tolist())) == 2

    splitter = GroupKFold(n_splits=folds)
    conv_index = np.arange(len(conversations))
    fold_of = np.empty(len(conversations), dtype=int)
    for k, (_train, test) in enumerate(splitter.split(conv_index, groups=groups_arr)):
        fold_of[test] = k

    # 1. out-of-fold text logits per message, and the fold's text weights for held-out scoring
    logits: list[list[float] | None] = [None] * len(conversations)
    fold_text: list[tuple[dict[str, dict[str, float]], float]] = []
    for k in range(folds):
        if not has_text:
            fold_text.append(({}, 0.0))
            continue
        in_train = fold_of[row_conv] != k
        train_rows = in_train & learn
        progress(f"text model, fold {k + 1}/{folds}")
        clf = fit_text(matrix[train_rows], text_labels[train_rows], text_w[train_rows])
        fold_text.append(text_weights_from(clf, vocab))
        test_rows = np.flatnonzero(~in_train)
        decisions = clf.decision_function(matrix[test_rows])
        for r, d in zip(test_rows, decisions):
            ci, _mi = text_rows[r]
            if logits[ci] is None:
                logits[ci] = []
            logits[ci].append(float(d))  # type: ignore[union-attr]

    # 2. second-stage rows (text logits all out-of-fold) and per-fold stages
    progress("second-stage features")
    per_conv_rows = [stage_rows([c], [l], {c.source: 1.0}) for c, l in zip(conversations, logits)]
    source_n = Counter()
    for c, r in zip(conversations, per_conv_rows):
        source_n[c.source] += len(r.x)

    def stack(indices: np.ndarray):
        parts = [per_conv_rows[i] for i in indices]
        x = np.vstack([p.x for p in parts])
        yc = np.concatenate([p.conversation_label for p in parts])
        yo = np.concatenate([p.offender_label for p in parts])
        src = [conversations[i].source for i in indices for _ in range(len(per_conv_rows[i].x))]
        counts = Counter(src)
        w = np.asarray([source_weights.get(s, 1.0) / counts[s] for s in src])
        return x, yc, yo, w

    def fit_stages(indices: np.ndarray) -> tuple[LinearStage, LinearStage]:
        x, yc, yo, w = stack(indices)
        conv_rows, auth_rows = yc >= 0, yo >= 0
        return fit_stage(text_blind(x[conv_rows]), yc[conv_rows], w[conv_rows]), fit_stage(x[auth_rows], yo[auth_rows], w[auth_rows])

    fold_stages, oof = [], {"conv": ([], [], []), "auth": ([], [], [])}
    for k in range(folds):
        progress(f"second stage, fold {k + 1}/{folds}")
        conv_stage, auth_stage = fit_stages(conv_index[fold_of != k])
        fold_stages.append((conv_stage, auth_stage))
        x, yc, yo, w = stack(conv_index[fold_of == k])
        for key, stage, y, xs in (("conv", conv_stage, yc, text_blind(x)), ("auth", auth_stage, yo, x)):
            keep = y >= 0
            oof[key][0].append(stage.decision(xs[keep]))
            oof[key][1].append(y[keep])
            oof[key][2].append(w[keep])
    calibration = {}
    for key, (d, y, w) in oof.items():
        y_all = np.concatenate(y)
        calibration[key] = platt(np.concatenate(d), y_all, np.concatenate(w)) if len(set(y_all.tolist())) == 2 else (1.0, 0.0)
    a, b = calibration["conv"]
    calibration["conv"] = (a, b + PRIOR_LOGIT_SHIFT)

    # 3. held-out outcomes with the real inference code
    outcomes: list[Outcome] = []
    fold_models = []
    for k in range(folds):
        progress(f"held-out scoring, fold {k + 1}/{folds}")
        conv_stage, auth_stage = fold_stages[k]
        weights, intercept = fold_text[k]
        fold_model = ConversationModel(
            weights, intercept, with_platt(conv_stage, *calibration["conv"]), with_platt(auth_stage, *calibration["auth"])
        )
        fold_models.append(fold_model)
        outcomes.extend(score_conversation(fold_model, conversations[i]) for i in conv_index[fold_of == k])

    # 4. the final model
    progress("final model")
    if has_text:
        final_text = text_weights_from(fit_text(matrix[learn], text_labels[learn], text_w[learn]), vocab)
    else:
        final_text = ({}, 0.0)
    conv_stage, auth_stage = fit_stages(conv_index)
    meta = dict(metadata or {})
    meta["calibration"] = {k: list(v) for k, v in calibration.items()}
    meta["training_rows"] = dict(source_n)
    model = ConversationModel(
        final_text[0], final_text[1],
        with_platt(conv_stage, *calibration["conv"]), with_platt(auth_stage, *calibration["auth"]), meta,
    )
    return Fitted(model, outcomes, fold_models, {c.conversation_id: int(k) for c, k in zip(conversations, fold_of)})


def summarise(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float]]:
    """Per source (and per language): flagged share, recall, offender identified, flags / 1k msgs."""
    by: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by.setdefault(f"{o.source}/{o.language}", []).append(o)
    report = {}
    for key, items in sorted(by.items()):
        harmful = [o for o in items if o.harmful]
        benign = [o for o in items if not o.harmful]
        flagged_harmful = [o for o in harmful if o.flagged]
        tp, fn = len(flagged_harmful), len(harmful) - len(flagged_harmful)
        fp = sum(1 for o in benign if o.flagged)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / len(harmful) if harmful else 0.0
        entry: dict[str, float] = {"conversations": len(items), "messages": sum(o.messages for o in items)}
        if harmful:
            entry.update(
                recall=round(recall, 4),
                offender_identified=round(
                    sum(1 for o in flagged_harmful if o.offender_guess == o.offender) / tp, 4
                ) if tp else 0.0,
                missed=fn,
            )
        if benign:
            msgs = sum(o.messages for o in benign)
            entry.update(
                benign_flagged_share=round(fp / len(benign), 4),
                benign_flagged=fp,
                flagged_messages_per_1000=round(1000 * sum(o.flagged_messages for o in benign) / msgs, 3) if msgs else 0.0,
            )
        if harmful and benign:
            f05 = (1.25 * precision * recall / (0.25 * precision + recall)) if precision + recall else 0.0
            entry.update(precision=round(precision, 4), f05=round(f05, 4))
        report[key] = entry
    return report
