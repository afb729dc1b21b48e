"""The model's inference fast path gives the reference scores.

``ConversationModel`` scores with :class:`trygg.model.features.AuthorScorer` and a per-token
n-gram cache; training builds features with :func:`author_features` and :func:`text_terms`.
These tests replay fixed conversations through both and require the same numbers (1e-9),
so a speed-up can never quietly change what the shipped artefacts mean.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from trygg.model import load_default
from trygg.model.conversation_model import TEXT_CACHE_SIZE, ConversationModel, ModelState
from trygg.model.features import add_message, author_features, new_author, text_terms, words_of
from trygg.signals import detect_signals
from trygg.signals.base import Signal
from trygg.text.normalize import normalize
from trygg.text.short_texts import SHORT_TEXT_CHARS

pytestmark = pytest.mark.skipif(load_default() is None, reason="no shipped artefacts (run `trygg train`)")

_LINES = [
    ("adult", "hey how old are you?"),
    ("kid", "im 13, why"),
    ("adult", "you're so mature for your age, i'm 34 btw"),
    ("kid", "lol ok"),
    ("adult", "don't tell your parents about us, add me on snap it's more private"),
    ("other", "hej hej vad gör ni"),
    ("adult", "send me a pic of you, i'll give you a $50 gift card for pics"),
    ("kid", "no thanks"),
    ("adult", "we could meet at the mall saturday, just you and me"),
]


def _reference_text_logit(model: ConversationModel, text: str) -> float:
    total = model.text_intercept
    for kind, terms in zip(("words", "bigrams", "chars"), text_terms(text)):
        total += sum(model.text_weights[kind].get(term, 0.0) for term in set(terms))
    return total


def _reference_probabilities(model: ConversationModel, state: dict, targets: list[str], text_active: bool) -> np.ndarray:
    rows = np.vstack([author_features(state["authors"], uid, text_active) for uid in targets])
    z = model._platt_a * (rows @ model._w + model._b) + model._platt_b
    return 1.0 / (1.0 + np.exp(-z))


_ODD_TEXTS = ["", "a", "ab ab ab", "snapchat snap snap!! 😀 ok", "don't,stop...now ok?ok", "a\u2003b\x1cc\u00a0d  e_f"]


@pytest.mark.parametrize("text", [text for _, text in _LINES] + _ODD_TEXTS)
def test_text_logit_equals_the_training_terms(text: str) -> None:
    model = load_default()
    normalized = normalize(text).text
    assert model.text_logit(normalized) == pytest.approx(_reference_text_logit(model, normalized), abs=1e-9)
    assert model._text_logit(text) == pytest.approx(_reference_text_logit(model, text), abs=1e-9)
    # The premise of looking words up per whitespace token: no word crosses one.
    assert [w for token in text.split() for w in words_of(token)] == words_of(text)


@pytest.mark.parametrize("text_active", [True, False])
def test_scores_equal_author_features_along_a_conversation(text_active: bool) -> None:
    model = load_default()
    state = model.new_state()
    hints = {"adult": 34.0, "kid": None, "other": 15.0}
    for i, (sender, text) in enumerate(_LINES):
        normalized = normalize(text)
        signals = detect_signals(normalized, f"e{i}", "en")
        model.update(state, sender, normalized.text, signals, hints[sender], "en")
        targets = list(state["authors"])
        fast = model._scorer.probabilities(state["authors"], targets, text_active)
        reference = _reference_probabilities(model, state, targets, text_active)
        np.testing.assert_allclose(fast, reference, rtol=0, atol=1e-12)
        # The stored scores of everyone (also those not re-scored for this message) are current.
        np.testing.assert_allclose(
            [state["scores"][uid] for uid in targets],
            _reference_probabilities(model, state, targets, True),
            rtol=0,
            atol=1e-12,
        )
        # One target out of several (the path used in big rooms).
        np.testing.assert_allclose(
            model._scorer.probabilities(state["authors"], [sender], text_active),
            _reference_probabilities(model, state, [sender], text_active),
            rtol=0,
            atol=1e-12,
        )
    assert any(sum(author["fam"]) for author in state["authors"].values())  # the signals did count


def test_stored_scores_stay_current_when_the_language_switches_the_text_part() -> None:
    """A declared age arriving late, then Swedish that switches the text part off: every
    author's stored score must follow, although only the sender is re-scored when nothing
    the others see has changed."""
    model = load_default()
    state = model.new_state()
    lines = [("a", "hey what's up", None, "en"), ("b", "not much, you?", 30.0, "en"), ("a", "same lol", None, "en")]
    lines += [("a", "ok", 13.0, "en"), ("b", "cool", 30.0, "en"), ("b", "okej", 30.0, "sv")]
    lines += [("b", "hur gammal är du?", 30.0, "sv")]
    lines += [("a", "jag är 13", 13.0, "sv"), ("b", "skicka en bild på dig", 30.0, "sv"), ("a", "nej", 13.0, "sv")]
    for i, (sender, text, hint, language) in enumerate(lines):
        normalized = normalize(text)
        signals = detect_signals(normalized, f"e{i}", language)
        model.update(state, sender, normalized.text, signals, hint, language)
        targets = list(state["authors"])
        expected = _reference_probabilities(model, state, targets, model._text_active(state))
        np.testing.assert_allclose([state["scores"][uid] for uid in targets], expected, rtol=0, atol=1e-12)


def test_scores_equal_the_reference_in_a_big_room() -> None:
    """Beyond RESCORE_ALL_UP_TO authors only the sender is re-scored, on both paths."""
    model = load_default()
    state = model.new_state()
    for i in range(12):
        sender = f"u{i}"
        normalized = normalize(_LINES[i % len(_LINES)][1])
        signals = detect_signals(normalized, f"e{i}", "en")
        result = model.update(state, sender, normalized.text, signals, 14.0 if i % 3 else 40.0, "en")
        expected = _reference_probabilities(model, state, [sender], True)[0]
        assert state["scores"][sender] == pytest.approx(expected.tolist(), abs=1e-12)
        assert result["conversation"] == pytest.approx(max(s[0] for s in state["scores"].values()), abs=1e-12)


def test_short_texts_come_from_a_bounded_cache_with_the_same_logit() -> None:
    model = load_default()
    short, long = "lol ok see you later", " ".join(["later"] * 20)
    assert len(short) <= SHORT_TEXT_CHARS < len(long)
    assert model.text_logit(short) == model._text_logit(short) == model.text_logit(short)
    cached = model._short_text_logit.cache_info()
    assert cached.maxsize == TEXT_CACHE_SIZE
    assert model.text_logit(long) == model._text_logit(long)
    assert model._short_text_logit.cache_info().currsize == cached.currsize  # long texts are not kept


def _seen_by_others(author: dict) -> tuple:
    return (*author["fam"], author["age_lo"], author["age_hi"], author["hint"])


def test_add_message_says_exactly_when_what_others_read_changed() -> None:
    author = new_author()
    age = lambda value: Signal("age_disclosure", 0.9, "e", value=value)  # noqa: E731
    steps = [
        ([], None), ([], 30.0), ([], 30.0), ([], 31.0), ([age(14)], 31.0), ([age(14)], 31.0), ([age(12)], 31.0),
        ([age(13)], 31.0), ([Signal("secrecy", 0.8, "e")], 31.0), ([Signal("not_a_family", 0.8, "e")], 31.0),
    ]
    for signals, hint in steps:
        before = _seen_by_others(author)
        changed = add_message(author, signals, hint, 0.5)
        assert changed == (before != _seen_by_others(author)), (signals, hint)


def test_a_message_that_changes_no_feature_scores_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the text part off, a known sender's plain message changes no one's features: the
    stored scores are the scores, and nothing is re-scored."""
    model = load_default()
    state = model.new_state()
    for sender, text in [("a", "hej"), ("b", "tja"), ("a", "vad gör du")]:
        model.update(state, sender, normalize(text).text, [], 30.0 if sender == "a" else None, "sv")
    calls = []
    score = model._scorer.partials
    monkeypatch.setattr(model._scorer, "partials", lambda *a: calls.append(a) or score(*a))
    result = model.update(state, "b", normalize("inget särskilt").text, [], None, "sv")
    assert calls == []
    targets = list(state["authors"])
    # The reference is numpy's matrix product, whose sum order is not the scorer's: equal up to
    # the last bit of rounding (AuthorScorer's docstring); bit-equality is held against scoring
    # from scratch in the test below.
    np.testing.assert_allclose(
        [state["scores"][uid] for uid in targets], _reference_probabilities(model, state, targets, False), rtol=1e-12, atol=1e-15
    )
    assert result["conversation"] == max(s[0] for s in state["scores"].values())
    model.update(state, "b", normalize("hur gammal är du").text, [Signal("age_inquiry", 0.8, "e")], None, "sv")
    assert len(calls) == 1 and calls[0][1] == ["a", "b"]  # a family count changed: everyone


def test_scores_from_partial_sums_equal_scores_from_scratch_bit_for_bit() -> None:
    """An English sender whose text summary alone moved is re-scored from stored partial sums;
    the scores must be exactly those of a full scoring, also across a JSON round trip (which
    drops the in-memory partials) and when a late age or signal changes what the others read."""
    model = load_default()
    state = model.new_state()
    lines = _LINES + [("kid", "ok"), ("adult", "so what are you doing later"), ("kid", "nothing much")]
    for i, (sender, text) in enumerate(lines * 2):
        if i == len(lines):
            state = json.loads(json.dumps(state))
            assert not isinstance(state, ModelState)
        normalized = normalize(text)
        signals = detect_signals(normalized, f"e{i}", "en")
        model.update(state, sender, normalized.text, signals, 34.0 if sender == "adult" and i > 3 else None, "en")
        for uid in state["authors"]:
            assert state["scores"][uid] == model._scorer.probabilities(state["authors"], [uid], True)[0]
    reused = model.new_state()
    for sender, text in lines:
        model.update(reused, sender, normalize(text).text, [], None, "en")
    assert set(reused.partials) == set(reused["authors"])
    assert json.loads(json.dumps(reused)) == dict(reused)  # the partials are not part of the state


def test_a_resumed_conversation_is_live_again_and_scores_as_if_it_never_left() -> None:
    """A state read back from the store becomes a live ``ModelState`` (so the fast path applies
    to resumed conversations too), and the scores after resuming equal those of an engine that
    kept the conversation in memory, bit for bit."""
    from trygg.engine import Engine
    from trygg.events import AccountEvent, MessageEvent

    model = load_default()
    events = [AccountEvent(type="account", user_id="kid", declared_age=13)] + [
        MessageEvent(type="message", event_id=f"r{i}", conversation_id="r", sender_id=who, text=text)
        for i, (who, text) in enumerate(_LINES)
    ]
    whole = Engine(model=model)
    expected = [whole.process(e) for e in events]
    first = Engine(model=model)
    got = [first.process(e) for e in events[:5]]
    stored = json.loads(json.dumps(first.dump_conversation("r")))
    users = {uid: json.loads(json.dumps(first.dump_user(uid))) for uid in first.drain_dirty()[1]}
    second = Engine(model=model)
    second.load_conversation("r", stored)
    for uid, data in users.items():
        second.load_user(uid, data)
    assert isinstance(second.conversations["r"].model_state, ModelState)
    got += [second.process(e) for e in events[5:]]
    assert [(d.actions, d.risk) if d else None for d in got] == [(d.actions, d.risk) if d else None for d in expected]
    assert second.conversations["r"].model_state.partials  # the fast path's sums are kept again
    assert second.summary("r") == whole.summary("r")


_SWEDISH = [
    ("vuxen", "hej, hur gammal är du?"),
    ("barn", "jag är 13 år, varför undrar du det"),
    ("vuxen", "du verkar så mogen för din ålder, säg inget till dina föräldrar"),
    ("barn", "okej"),
    ("vuxen", "lägg till mig på snap, det är mer privat där"),
    ("barn", "vet inte riktigt"),
    ("vuxen", "skicka en bild på dig, jag swishar 200 kr"),
]


def test_a_conversation_settled_on_another_language_is_not_scored_for_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a conversation has settled on a language the text part does not read, its messages
    are not scored for text (the costliest part of an update): every decision is the same as
    when they are, and the stored text summaries stop where the language settled."""
    from trygg.engine import Engine
    from trygg.events import AccountEvent, MessageEvent

    model = load_default()
    events = [AccountEvent(type="account", user_id="barn", declared_age=13)] + [
        MessageEvent(type="message", event_id=f"s{i}", conversation_id="s", sender_id=who, text=text)
        for i, (who, text) in enumerate(_SWEDISH)
    ]
    scored: list[str] = []
    text_logit = model.text_logit
    monkeypatch.setattr(model, "text_logit", lambda text: scored.append(text) or text_logit(text))
    skipping = Engine(model=model)
    got = [skipping.process(e) for e in events]
    tracker = skipping._trackers["s"]
    assert tracker.settled and tracker.language == "sv"
    skipped = len(events) - 1 - len(scored)
    assert skipped > 0  # the messages after settling were not scored

    update = model.update
    monkeypatch.setattr(model, "update", lambda *args, **kwargs: update(*args[:6]))  # never told it settled
    scored.clear()
    always = Engine(model=model)
    expected = [always.process(e) for e in events]
    assert len(scored) == len(events) - 1
    assert [(d.actions, d.risk, d.reasons) if d else None for d in got] == [
        (d.actions, d.risk, d.reasons) if d else None for d in expected
    ]
    assert skipping.summary("s") == always.summary("s")
    authors = skipping.conversations["s"].model_state["authors"]
    assert sum(a["tn"] for a in authors.values()) == len(events) - 1 - skipped
