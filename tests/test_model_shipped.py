"""The shipped model: present, small, loads without pickle, fast, and language-aware."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from trygg.model import DEFAULT_ARTEFACTS, ConversationModel, load_default
from trygg.signals import detect_signals
from trygg.text.normalize import normalize

pytestmark = pytest.mark.skipif(load_default() is None, reason="no shipped artefacts (run `trygg train`)")


def _replay(model: ConversationModel, lines: list[tuple[str, str]], language: str) -> dict[str, object]:
    state = model.new_state()
    result: dict[str, object] = {}
    for i, (sender, text) in enumerate(lines):
        normalized = normalize(text)
        result = model.update(state, sender, normalized.text, detect_signals(normalized, f"e{i}", language), None, language)
    json.dumps(state)
    return result


def test_artefacts_are_small_plain_arrays_and_json() -> None:
    size = sum(p.stat().st_size for p in DEFAULT_ARTEFACTS.iterdir() if p.is_file())
    assert size < 5 * 1024 * 1024
    with np.load(DEFAULT_ARTEFACTS / "model.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
    meta = json.loads((DEFAULT_ARTEFACTS / "model.json").read_text(encoding="utf-8"))
    assert meta["format_version"] == 1 and "report" in meta


def test_load_default_is_cached() -> None:
    assert load_default() is load_default()


def test_text_is_ignored_outside_english() -> None:
    """Same signals, different Swedish words → the same scores: Swedish rests on signals and ages."""
    model = load_default()
    assert model is not None
    a = _replay(model, [("u1", "hej hur mår du"), ("u2", "bra tack, och du?")], "sv")
    b = _replay(model, [("u1", "tjena läget"), ("u2", "lugnt, själv då")], "sv")
    assert a["conversation"] == pytest.approx(b["conversation"])


def test_state_stays_small_over_a_long_conversation() -> None:
    model = load_default()
    assert model is not None
    state = model.new_state()
    for i in range(2000):
        model.update(state, f"u{i % 2}", "what are you doing this weekend", [], None, "en")
    assert len(json.dumps(state)) < 2000


def test_update_is_fast() -> None:
    model = load_default()
    assert model is not None
    texts = [normalize(t).text for t in ("hey how was school today?", "lol the test was so hard, want to play later")]
    state = model.new_state()
    n = 2000
    start = time.perf_counter()
    for i in range(n):
        model.update(state, f"u{i % 2}", texts[i % 2], [], None, "en")
    per_message = (time.perf_counter() - start) / n
    # ~50-100 µs on an idle core; the bound leaves room for a busy CI machine
    assert per_message < 1e-3, f"{per_message * 1e6:.0f} µs per message"
