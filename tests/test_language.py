"""Tests for trygg.text.language: per-text detection and the per-conversation tracker."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from trygg.text import language
from trygg.text.language import LanguageTracker, detect_language, guess_language

TATOEBA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "benign" / "tatoeba-swe-eng" / "swe-eng" / "swe.txt"

SWEDISH_CHAT = [
    "hej! va gör du ikväll?",
    "asså typ ngn gång",
    "hur gammal e du",
    "tjena läget?",
    "vill du ses ngn gång typ",
    "jag e 13 asså",
]
ENGLISH_CHAT = [
    "what are you doing",
    "how old are you",
    "hey whats up",
    "do you have snapchat?",
    "u look really pretty in ur pics",
]
OTHER = [
    "Jeg har ikke tid i dag, vi ses i morgen.",  # Norwegian Bokmål
    "Hva gjør du i kveld? Jeg vet ikke hva jeg skal gjøre.",  # Norwegian
    "Hvad laver du i aften?",  # Danish
]
#: German and Dutch have packs since issue 9: their own codes, no longer "other".
GERMAN_DUTCH = [
    ("Ich habe heute keine Zeit, wir sehen uns morgen.", "de"),
    ("Ik heb vandaag geen tijd, tot morgen.", "nl"),
]


@pytest.mark.parametrize("text", SWEDISH_CHAT[:5])
def test_informal_swedish(text: str) -> None:
    assert detect_language(text) == "sv"


@pytest.mark.parametrize("text", ENGLISH_CHAT)
def test_english_chat(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize("text", OTHER)
def test_nordic_is_other(text: str) -> None:
    assert detect_language(text) == "other"


@pytest.mark.parametrize("text, code", GERMAN_DUTCH)
def test_german_and_dutch_have_codes(text: str, code: str) -> None:
    assert detect_language(text) == code


@pytest.mark.parametrize("text", ["ok", "haha lol", "13", "😘😘", "", "hej", "?!"])
def test_undecidable(text: str) -> None:
    assert guess_language(text) is None
    assert detect_language(text) == "other"


def test_tracker_default_before_evidence() -> None:
    tracker = LanguageTracker()
    assert tracker.language == "en"
    tracker.observe("ok")
    tracker.observe("haha")
    assert tracker.language == "en"
    assert LanguageTracker(default="sv").language == "sv"
    with pytest.raises(ValueError, match="default"):
        LanguageTracker(default="fr")  # no pack, so not a code (de has one since issue 9)


def test_tracker_settles_on_swedish_chat_and_keeps_it() -> None:
    tracker = LanguageTracker()
    for line in SWEDISH_CHAT:
        tracker.observe(line)
    assert tracker.language == "sv"
    assert tracker.settled
    assert tracker.buffer == ""
    tracker.observe("what are you doing tonight, do you want to hang out with me")
    assert tracker.language == "sv"  # settled: no more detection


def test_tracker_keeps_prior_on_undecidable_messages() -> None:
    tracker = LanguageTracker()
    tracker.observe("hej! va gör du ikväll?")
    assert tracker.language == "sv"
    for line in ("ok", "haha", "13", "lol"):
        assert tracker.observe(line) == "sv"


def test_tracker_english_and_other() -> None:
    english = LanguageTracker()
    for line in ENGLISH_CHAT:
        english.observe(line)
    assert english.language == "en" and english.settled
    norwegian = LanguageTracker()
    for line in OTHER[:2]:
        norwegian.observe(line)
    assert norwegian.language == "other"


def test_tracker_forces_settling_on_mixed_text() -> None:
    tracker = LanguageTracker()
    lines = ["hej hur mår du", "i am fine thanks", "vad gör du", "nothing much you"] * 20
    for line in lines:
        tracker.observe(line)
        if tracker.settled:
            break
    assert tracker.settled
    assert tracker.letters <= LanguageTracker.FORCE_SETTLE_LETTERS + 20


def test_tracker_huge_message_is_cut_and_settles() -> None:
    tracker = LanguageTracker()
    tracker.observe("hej hur mår du? " * 4000)  # 64 KB: detection sees only the last MAX_CHARS
    assert tracker.settled and tracker.language == "sv"
    assert tracker.buffer == ""


def test_tracker_reads_each_message_once_yet_detects_on_the_whole_buffer(monkeypatch) -> None:
    """The evidence the tracker extends message by message equals reading its buffer afresh:
    across Greek final sigma (lower-casing depends on the next letter), apostrophes, a buffer
    cut mid-word at MAX_CHARS, and a restored buffer."""
    real_guess = language._guess
    checks = []

    def checked_guess(evidence):
        fresh = language._Evidence()
        fresh.add(tracker.buffer)
        assert evidence == fresh
        checks.append(evidence.letters)
        return real_guess(evidence)

    monkeypatch.setattr(language, "_guess", checked_guess)
    tracker = LanguageTracker()
    for text in ("ΟΔΟΣ", "ΣΑΣ ΦΙΛΟΣ", "don't you'd", "ok", "13"):
        tracker.observe(text)
    assert not tracker.settled
    tracker = LanguageTracker.from_dict({**tracker.to_dict(), "buffer": "ΣΑΣ hej och"})
    for text in ("vad gör du ikväll, ska vi ses sen ΟΔΟΣ", "ok", "x" * 1990 + "yz abc"):  # the last cuts the buffer
        tracker.observe(text)
    assert tracker.settled
    assert len(checks) >= 5


def test_lingua_answers_are_cached_for_short_texts_only() -> None:
    """The cache gives lingua's own answer (to its last bits, which vary from call to call),
    is bounded, and keeps long texts (whole conversations, which do not repeat) out."""
    language._lingua_cached.cache_clear()
    short, long = "hello there friend", "hello there friend " * 10
    assert language._lingua_cached(short) == pytest.approx(language._lingua(short), abs=1e-12)
    assert guess_language(short) == guess_language(short)
    assert language._lingua_cached.cache_info().hits >= 1
    guess_language(long)
    assert language._lingua_cached.cache_info().currsize == 1
    assert language._lingua_cached.cache_info().maxsize == 4096


def test_tracker_json_round_trip() -> None:
    tracker = LanguageTracker()
    tracker.observe("hej! va gör du ikväll?")
    stored = json.dumps(tracker.to_dict())
    assert "ikväll" not in stored  # stored state is never a copy of what the user wrote
    restored = LanguageTracker.from_dict(json.loads(stored))
    assert (restored.guess, restored.confidence, restored.letters, restored.settled) == (
        tracker.guess, tracker.confidence, tracker.letters, tracker.settled)
    restored.observe("asså typ ngn gång, vill du ses ngn gång typ")
    assert restored.language == "sv"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("letters"), "missing field 'letters'"),
        (lambda d: d.update(settled="yes"), "field 'settled'"),
        (lambda d: d.update(letters=True), "field 'letters'"),
        (lambda d: d.update(guess="fr"), "guess must be"),
    ],
)
def test_tracker_from_dict_errors(change, message: str) -> None:
    data = LanguageTracker().to_dict()
    change(data)
    with pytest.raises(ValueError, match=message):
        LanguageTracker.from_dict(data)


def _tatoeba_sample() -> list[tuple[str, str]]:
    if not TATOEBA.is_file():
        pytest.skip(f"Tatoeba data not found at {TATOEBA} (needs ../shared/data)")
    pairs = []
    for line in TATOEBA.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) >= 2:
            pairs.append((fields[0], fields[1]))
    return random.Random(0).sample(pairs, 900)


@pytest.mark.data
@pytest.mark.parametrize(("column", "code"), [(1, "sv"), (0, "en")])
def test_tatoeba_accuracy(column: int, code: str) -> None:
    sample = _tatoeba_sample()
    single = [pair[column] for pair in sample[:300]]
    triples = [" ".join(pair[column] for pair in sample[i : i + 3]) for i in range(0, 900, 3)]
    single_acc = sum(detect_language(t) == code for t in single) / len(single)
    triple_acc = sum(detect_language(t) == code for t in triples) / len(triples)
    assert triple_acc >= 0.95, f"{code}: 3-sentence accuracy {triple_acc:.3f}"
    assert single_acc >= 0.80, f"{code}: single-sentence accuracy {single_acc:.3f}"


SCENARIOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scenarios"


@pytest.mark.data
def test_tracker_on_labelled_scenarios() -> None:
    """Per-conversation language of the 60 labelled sv/en scenario chats (all 60 right when written)."""
    if not (SCENARIOS / "events.jsonl").is_file():
        pytest.skip(f"scenarios not found at {SCENARIOS} (needs ../shared/data)")
    labels = {}
    for line in (SCENARIOS / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        labels[label["conversation_id"]] = label["language"]
    trackers: dict[str, LanguageTracker] = {}
    for line in (SCENARIOS / "events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("type") == "message":
            trackers.setdefault(event["conversation_id"], LanguageTracker()).observe(event["text"])
    correct = sum(trackers[cid].language == language for cid, language in labels.items())
    assert correct >= 0.95 * len(labels), f"{correct}/{len(labels)} conversations"
    assert sum(t.settled for t in trackers.values()) >= 0.9 * len(trackers)


def test_two_marker_words_of_one_language_decide_without_lingua(monkeypatch) -> None:
    """Lingua is the costliest call per conversation; two distinctive chat words of one
    language and none of the other are enough to decide (Tatoeba accuracy does not drop),
    while one marker word, or markers of both languages, still go to lingua."""
    calls: list[str] = []

    def counting_lingua(text: str) -> tuple[float, float, float, float, float]:
        calls.append(text)
        return 0.2, 0.2, 0.0, 0.0, 0.6  # sv, en, de, nl, the likeliest other

    monkeypatch.setattr(language, "_lingua", counting_lingua)
    monkeypatch.setattr(language, "_lingua_cached", counting_lingua)
    assert guess_language("hej vad händer").code == "sv"
    assert guess_language("what are the plans").code == "en"
    assert calls == []
    assert guess_language("hej kompis").code == "other"  # one marker: lingua's answer counts
    assert guess_language("jag love you").code == "other"  # both languages: lingua decides
    assert len(calls) == 2
    assert guess_language("ich bin nicht da").code == "de"  # German markers alone decide too
    assert guess_language("ik ben niet thuis").code == "nl"
    assert len(calls) == 2
    # Dutch shares English chat words ("is", "we"): its own markers keep them from deciding.
    guess_language("is het goed als we maar gaan")
    assert len(calls) == 3
