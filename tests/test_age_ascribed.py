"""Ages that one user's words give another (issue 9): "cool for a 7th grader", "du e ju bara 12",
and the child's school named in an adult's sentence ("I can pick you up after fritids").

Chats here are written for these tests (sv and en), short and non-graphic.
"""

import pytest

from trygg.age.addressee import Whose, assign_cues, whose_cue
from trygg.age.picture import ASCRIBED, ASCRIBED_CAP, IMPLIED_FLOOR, AgePicture
from trygg.engine import Engine
from trygg.events import parse_event
from trygg.lang.pack import load_pack_file
from trygg.signals.base import Signal
from trygg.signals.detect import detect_signals
from trygg.text.normalize import normalize


def _signals(text, language):
    return assign_cues(detect_signals(normalize(text), "t1", language), text)


def _chat(name, lines, group=False):
    engine = Engine()
    speakers = sorted({speaker for speaker, _ in lines})
    for n, (speaker, text) in enumerate(lines, 1):
        other = next(s for s in speakers if s != speaker)
        engine.process(parse_event({
            "type": "message", "event_id": f"{name}-{n}", "conversation_id": name, "sender_id": f"{name}:{speaker}",
            "recipient_id": None if group else f"{name}:{other}", "text": text,
        }))
    return engine


# ---------------------------------------------------------------- whose a cue is

@pytest.mark.parametrize("text,language,whose", [
    ("min mamma hämtar mig efter fritids", "sv", Whose.SPEAKER),
    ("jag kan hämta dig efter fritids", "sv", Whose.ADDRESSEE),
    ("har du fritids idag?", "sv", Whose.ASKED),
    ("13.40 sen fritids", "sv", Whose.SPEAKER),
    ("i can get u from your primary school", "en", Whose.ADDRESSEE),
    ("we had a substitute today", "en", Whose.SPEAKER),
    ("r u still in elementary?", "en", Whose.ASKED),
])
def test_the_nearest_pronoun_says_whose_cue_it_is(text, language, whose):
    cues = [s for s in detect_signals(normalize(text), "t1", language) if s.name == "implied_age"]
    assert cues, text
    assert whose_cue(text, cues[0].span, cues[0].language) is whose


def test_a_cue_about_the_addressee_becomes_an_ascribed_age_and_a_question_is_dropped():
    assert {s.name for s in _signals("jag kan hämta dig efter fritids", "sv")} >= {"ascribed_age"}
    assert "implied_age" not in {s.name for s in _signals("jag kan hämta dig efter fritids", "sv")}
    assert not {"implied_age", "ascribed_age"} & {s.name for s in _signals("är du på fritids nu?", "sv")}


# ---------------------------------------------------------------- the packs' ascriptions

@pytest.mark.parametrize("text,language,age", [
    ("u seem really cool for a 7th grader", "en", 12),
    ("what are u, year 6?", "en", 10),
    ("ur only 13 lol", "en", 13),
    ("ur well good at minecraft for ur age", "en", 13),
    ("aww thanks kiddo", "en", 12),
    ("du e ju bara 12", "sv", 12),
    ("för att vara 11 e du sjukt bra", "sv", 11),
    ("du är duktig på fotboll för din ålder", "sv", 13),
    ("hej lillen", "sv", 12),
])
def test_words_about_the_addressee_ascribe_an_age(text, language, age):
    found = [s for s in _signals(text, language) if s.name == "ascribed_age"]
    assert found and int(found[0].value) == age
    # ... and none of it is the speaker's own age
    assert not [s for s in _signals(text, language) if s.name == "age_disclosure"]


@pytest.mark.parametrize("text,language", [
    ("you look good for your age", "en"),
    ("you're only 15 minutes away", "en"),
    ("in year 7 we did this too", "en"),
    ("du ser bra ut för din ålder", "sv"),
    ("du är bara 5 min bort", "sv"),
])
def test_adult_compliments_and_counts_ascribe_no_age(text, language):
    assert not [s for s in _signals(text, language) if s.name == "ascribed_age"]


# ---------------------------------------------------------------- the age picture

def _ascribed(age, event_id, pattern_id):
    return Signal("ascribed_age", 0.45, event_id, None, "en", age, pattern_id)


def test_ascribed_ages_are_evidence_capped_below_ones_own_words():
    picture = AgePicture("kid")
    assert picture.ascribe([_ascribed(12, "e1", "en:for_a_grader")])
    assert picture.implied_ages[0][3] == ASCRIBED + "en:for_a_grader"
    for n, pattern in enumerate(["en:you_in_year", "en:kiddo", "en:for_your_age", "en:you_are_only_n"]):
        picture.ascribe([_ascribed(12, f"e{n + 2}", pattern)])
    assert picture.implied_minor_evidence == pytest.approx(ASCRIBED_CAP)
    assert picture.p_adult == pytest.approx(0.5 - (0.5 - IMPLIED_FLOOR) * ASCRIBED_CAP)
    # the same pattern twice is one fact
    assert not picture.ascribe([_ascribed(12, "e9", "en:kiddo")])


def test_others_words_never_overturn_a_declared_adult():
    picture = AgePicture("adult", declared_age=30)
    picture.ascribe([_ascribed(12, f"e{n}", f"en:p{n}") for n in range(5)])
    assert picture.likely_adult


# ---------------------------------------------------------------- through the engine

def test_an_adult_naming_the_childs_school_routine_gives_the_child_the_age_not_himself():
    engine = _chat("s", [
        ("man", "hej, hur dags slutar du idag?"),
        ("kid", "snart"),
        ("man", "jag kan hämta dig efter fritids, säg inget till mamma"),
    ])
    man, kid = engine.ages.peek("s:man"), engine.ages.peek("s:kid")
    assert man is None or not man.implied_ages
    assert kid is not None and kid.implied_ages and kid.implied_ages[0][3].startswith(ASCRIBED)
    assert kid.p_minor > 0.5


def test_an_ascription_in_a_room_goes_to_nobody():
    engine = _chat("g", [("man", "u seem really cool for a 7th grader"), ("kid", "lol thx"), ("other", "same")], group=True)
    for speaker in ("man", "kid", "other"):
        picture = engine.ages.peek(f"g:{speaker}")
        assert picture is None or not picture.implied_ages


def test_ascribed_age_raises_the_risk_of_the_adults_tactics():
    tactics = [("kid", "hej"), ("man", "du e så fin, säg inget till nån om oss. kom ensam till parken")]
    plain = _chat("p", [("man", "hej hur e läget"), *tactics])
    ascribed = _chat("a", [("man", "du e ju bara 12"), *tactics])
    assert ascribed.conversations["a"].risk > plain.conversations["p"].risk


# ---------------------------------------------------------------- the packs' pronoun lists

def test_a_pack_with_a_malformed_pronoun_list_is_refused(tmp_path):
    pack = tmp_path / "xx.toml"
    pack.write_text('[pack]\nlanguage = "xx"\nfirst_person = ["Ich bin"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="first_person must be a list of lower-case single words"):
        load_pack_file(pack)


# ---------------------------------------------------------------- an age heard, not stated

@pytest.mark.parametrize("reply", ["wow 9 år och så duktig!", "9?? nej men seriöst, så duktig", "du är ju 9 år, sjukt bra"])
def test_an_age_echoed_back_or_said_of_the_other_is_not_the_speakers(reply):
    engine = _chat("e", [("kid", "tack jag är 9 år"), ("man", reply)])
    man = engine.ages.peek("e:man")
    assert not man.stated_ages
    assert man.p_minor == pytest.approx(0.5)
    assert engine.ages.peek("e:kid").best_age_estimate == 9


def test_an_age_claimed_in_the_first_person_stays_the_speakers_even_when_the_same():
    engine = _chat("c", [("kid", "im 14"), ("man", "no way me too, i'm 14")])
    assert engine.ages.peek("c:man").best_age_estimate == 14


def test_an_unheard_bare_age_stays_the_speakers():
    # nobody else said 9: "9 år och redan så duktig" may be the speaker on themself
    engine = _chat("u", [("kid", "hej"), ("man", "9 år och redan så duktig på fotboll")])
    assert engine.ages.peek("u:man").best_age_estimate == 9


def test_an_echoed_age_no_longer_hides_the_adults_tactics():
    lines = [
        ("man", "du bygger så fina hus"),
        ("kid", "tack jag är 9 år"),
        ("man", "wow 9 år och så duktig! jag kan ge dig robux så du kan bygga ett slott"),
        ("man", "men det är en hemlis mellan oss. vad heter du på riktigt och var bor du?"),
    ]
    engine = _chat("h", lines)
    man = engine.ages.peek("h:man")
    assert man.p_minor == pytest.approx(0.5)
    assert engine.conversations["h"].participants["h:man"]["risk"] > 0.3
