"""Training of the learned model on a tiny synthetic set: determinism, artefacts, parity with
scikit-learn, grouped splits. Real pipeline code throughout; only the data is small."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

from trygg.model import ArtefactError, ConversationModel  # noqa: E402
from trygg.model.features import FEATURE_NAMES  # noqa: E402
from trygg.lab.pipeline import fit  # noqa: E402
from trygg.lab.training import (  # noqa: E402
    Message,
    Replayed,
    build_vocabulary,
    fit_stage,
    fit_text,
    groups_for,
    text_matrix,
    text_weights_from,
)
from trygg.signals.base import Signal  # noqa: E402

GROOMER = [
    ("hi there how old are you", [("age_inquiry", None)]),
    ("you are so mature for your age", [("compliments_trust", None)]),
    ("keep this our secret ok dont tell your mom", [("secrecy", None)]),
    ("add me on snap and send a pic", [("platform_migration", None), ("image_request", None)]),
]
CHILD = [("im 13", [("age_disclosure", 13)]), ("ok", []), ("lol thanks", []), ("idk", [])]
CHAT = [
    ("did you watch the game last night", []),
    ("yes it was great, what a goal", []),
    ("want to get lunch tomorrow", [("meeting_request", None)]),
    ("sure see you at noon", []),
    ("how old is your car anyway", [("age_inquiry", None)]),
]


def _message(sender: str, text: str, found: list[tuple[str, object]], i: int, lang: str, hint: float | None) -> Message:
    signals = [Signal(name, 0.9, f"e{i}", language=lang, value=value) for name, value in found]
    return Message(sender, text, signals, hint)


def synthetic(n: int = 24, seed: int = 7) -> list[Replayed]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        harmful = k % 2 == 0
        cid = f"c{k}"
        offender = f"off{k // 4}" if harmful else None  # some offenders have two conversations
        conv = Replayed(cid, "synthetic", cid, harmful, offender, "en")
        other = f"{cid}-x"
        for i in range(int(rng.integers(6, 12))):
            if harmful:
                sender, (text, found) = (offender, GROOMER[i % 4]) if i % 2 == 0 else (other, CHILD[(i // 2) % 4])
                hint = 35.0 if sender == offender else None
            else:
                sender = f"{cid}-a" if i % 2 == 0 else other
                text, found = CHAT[int(rng.integers(0, len(CHAT)))]
                hint = None
            conv.messages.append(_message(sender, text, found, i, "en", hint))
        out.append(conv)
    return out


def _fit(conversations: list[Replayed]):
    groups = groups_for([(c.conversation_id, c.offender) for c in conversations])
    return fit(conversations, groups, {"synthetic": 1.0}, {}, folds=3)


def _arrays(folder: Path) -> dict[str, np.ndarray]:
    with np.load(folder / "model.npz", allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def test_same_seed_same_arrays(tmp_path: Path) -> None:
    data = synthetic()
    _fit(data).model.save(tmp_path / "a")
    _fit(synthetic()).model.save(tmp_path / "b")
    a, b = _arrays(tmp_path / "a"), _arrays(tmp_path / "b")
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert (tmp_path / "a" / "model.json").read_text() == (tmp_path / "b" / "model.json").read_text()


def test_artefact_round_trip_without_pickle(tmp_path: Path) -> None:
    model = _fit(synthetic()).model
    model.save(tmp_path)
    assert all(arr.dtype != object for arr in _arrays(tmp_path).values())
    loaded = ConversationModel.load(tmp_path)
    for conv in synthetic(6, seed=99):
        s1, s2 = model.new_state(), loaded.new_state()
        for m in conv.messages:
            r1 = model.update(s1, m.sender, m.text, m.signals, m.hint, "en")
            r2 = loaded.update(s2, m.sender, m.text, m.signals, m.hint, "en")
            assert r1["conversation"] == pytest.approx(r2["conversation"], abs=1e-6)
        json.dumps(s2)  # the state the engine persists must be plain JSON


def test_learns_the_synthetic_task() -> None:
    fitted = _fit(synthetic(36))
    harmful = [o for o in fitted.cv_outcomes if o.harmful]
    benign = [o for o in fitted.cv_outcomes if not o.harmful]
    assert sum(o.flagged for o in harmful) >= 0.8 * len(harmful)
    assert sum(o.flagged for o in benign) <= 0.2 * len(benign)
    assert all(o.offender_guess == o.offender for o in harmful if o.flagged)


def test_wrong_layout_is_refused(tmp_path: Path) -> None:
    _fit(synthetic()).model.save(tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["feature_names"] = meta["feature_names"][:-1]
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ArtefactError, match="other features"):
        ConversationModel.load(tmp_path)
    with pytest.raises(ArtefactError, match="missing"):
        ConversationModel.load(tmp_path / "nowhere")


def test_text_inference_matches_sklearn_predict_proba() -> None:
    texts = [m.text for c in synthetic() for m in c.messages]
    labels = np.asarray([1 if ("secret" in t or "snap" in t or "mature" in t) else 0 for t in texts])
    vocab = build_vocabulary(texts, {"words": 50, "bigrams": 50, "chars": 300}, min_df=1)
    matrix = text_matrix(texts, vocab)
    clf = fit_text(matrix, labels, np.ones(len(texts)))
    weights, intercept = text_weights_from(clf, vocab)
    model = ConversationModel(weights, intercept, *([_identity_stage()] * 2))
    ours = np.asarray([1 / (1 + np.exp(-model.text_logit(t))) for t in texts])
    assert np.allclose(ours, clf.predict_proba(matrix)[:, 1], atol=1e-5)


def _identity_stage():
    n = len(FEATURE_NAMES)
    return fit_stage(np.eye(n)[: 2].repeat(5, axis=0), np.asarray([0] * 5 + [1] * 5), np.ones(10))


def test_stage_inference_matches_sklearn_predict_proba() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, len(FEATURE_NAMES)))
    y = (x[:, 3] + 0.5 * x[:, 7] > 0).astype(int)
    stage = fit_stage(x, y, np.ones(len(y)))
    mean, scale = x.mean(axis=0), x.std(axis=0)
    clf = LogisticRegression(C=0.3, solver="lbfgs", max_iter=2000, class_weight="balanced").fit((x - mean) / scale, y)
    assert np.allclose(stage.proba(x), clf.predict_proba((x - mean) / scale)[:, 1], atol=1e-6)


def test_grouped_split_never_puts_an_offender_on_both_sides() -> None:
    # offender o1 in c1 and c3; o2 in c2 and c5; c4 and c6 benign
    pairs = [("c1", "o1"), ("c2", "o2"), ("c3", "o1"), ("c4", None), ("c5", "o2"), ("c6", None)]
    groups = groups_for(pairs)
    assert groups[0] == groups[2] and groups[1] == groups[4]
    assert len(set(groups)) == 4
    for train, test in GroupKFold(n_splits=3).split(np.zeros(len(pairs)), groups=groups):
        train_offenders = {pairs[i][1] for i in train} - {None}
        test_offenders = {pairs[i][1] for i in test} - {None}
        assert not train_offenders & test_offenders
    conversations = synthetic(24)
    groups = groups_for([(c.conversation_id, c.offender) for c in conversations])
    for train, test in GroupKFold(n_splits=3).split(np.zeros(len(groups)), groups=groups):
        assert not {conversations[i].offender for i in train} & {conversations[i].offender for i in test} - {None}


SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.mark.data
def test_trygg_train_on_a_platforms_own_events(tmp_path: Path) -> None:
    """`trygg train --events --labels`: grouped CV figures printed, a loadable model written."""
    from typer.testing import CliRunner

    from trygg.cli import app

    scenarios = SHARED / "scenarios"
    if not scenarios.is_dir():
        pytest.skip("../shared/data/scenarios is not present")
    out = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        ["train", "--events", str(scenarios / "events.jsonl"), "--labels", str(scenarios / "labels.jsonl"),
         "--out", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["model_alone"]["cross_validated"]
    assert set(report) == {"platform/en", "platform/sv"}
    assert all(0.0 <= v["recall"] <= 1.0 and "benign_flagged_share" in v for v in report.values())
    assert ConversationModel.load(out).metadata["trained_on"].endswith("events.jsonl")


def test_trygg_train_refuses_unusable_input(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trygg.cli import app

    events = tmp_path / "events.jsonl"
    labels = tmp_path / "labels.jsonl"
    events.write_text(
        '{"type":"message","event_id":"e1","conversation_id":"c1","sender_id":"a","recipient_id":"b","text":"hi"}\n',
        encoding="utf-8",
    )
    labels.write_text('{"conversation_id":"c1","label":"benign"}\n', encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--events", str(events), "--labels", str(labels), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "need at least 5 harmful" in result.output
    result = runner.invoke(app, ["train", "--events", str(events)])
    assert result.exit_code == 2 and "both --events and --labels" in result.output
    labels.write_text('{"conversation_id":"c2","label":"benign"}\n', encoding="utf-8")
    result = runner.invoke(app, ["train", "--events", str(events), "--labels", str(labels), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "have no label" in result.output
