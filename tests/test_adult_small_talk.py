"""Issue 9: real small talk between adults (students chatting, as in the BYU Chit-Chat corpus)
must not read as grooming, and the same words said to a child still must.

Each case is a sentence written for this test next to its harmful reading: a speaker who would
rather be alone beside "come alone"; a streaming service that takes shows off beside "take it
off"; money back from an investment beside "make easy money"; "suck it" as a brush-off; a
college sophomore beside a high-school one; memories ("when I was about 14", "when I turned
18") beside today's age. One college student with a wife was restricted as an adult posing as a
teen; the last test shows that is gone while the high-school claim still raises the flag.
"""

import pytest

from test_detection_standalone import run_chat

from trygg.age.picture import CLEAR_CLAIM
from trygg.engine import Engine
from trygg.signals.detect import detect_signals
from trygg.text.normalize import normalize


def families(text: str) -> dict[str, float]:
    return {s.name: s.score for s in detect_signals(normalize(text), "e", "en")}


def stated_ages(text: str) -> list[tuple[int, float]]:
    return [(int(s.value), s.score) for s in detect_signals(normalize(text), "e", "en") if s.name == "age_disclosure"]


@pytest.mark.parametrize(
    ("small_talk", "to_a_child", "family"),
    [
        ("honestly i would rather be alone than date someone like that", "come alone, dont bring anyone", "isolation"),
        ("i prefer to go alone to the gym", "you can go there by yourself right?", "isolation"),
        ("they take them off netflix every few months", "take it off for me", "image_request"),
        ("we take them off before we go inside", "can u take them off now", "image_request"),
        ("i'd invest it so i can get money back from it", "wanna make some easy money?", "gift_or_money_offer"),
        ("i have to earn money for school somehow", "you could earn cash fast with me", "gift_or_money_offer"),
        ("and you can go tell everyone to suck it", "suck it for me baby", "sexual_talk"),
    ],
)
def test_an_adults_small_talk_is_not_the_tactic_its_words_resemble(small_talk, to_a_child, family):
    assert family not in families(small_talk)
    assert family in families(to_a_child)


@pytest.mark.parametrize(
    ("memory", "now", "age"),
    [
        ("this happened when I was about 14 years old", "im 14 years old", 14),
        ("my old laptop was like 10 years old", "im like 10 years old", 10),
        ("i moved out when i turned 18", "i just turned 18", 18),
    ],
)
def test_a_memory_of_an_age_is_not_todays_age(memory, now, age):
    assert stated_ages(memory) == []
    assert [a for a, _ in stated_ages(now)] == [age]


def test_a_school_stage_in_the_past_is_not_an_implied_age():
    assert "implied_age" not in families("I started in middle school and kept playing since")
    assert "implied_age" not in families("back in middle school we had a dog")
    assert families("i hate my middle school")["implied_age"] > 0


def test_sophomore_alone_is_a_cue_and_sophomore_in_high_school_a_clear_claim():
    (age, score), = stated_ages("i am a sophomore by the way")
    assert age == 15 and score < CLEAR_CLAIM
    (age, score), = stated_ages("im a sophomore in high school")
    assert age == 15 and score >= CLEAR_CLAIM
    assert stated_ages("im a sophomore at college") == []


@pytest.mark.parametrize(
    ("claim", "flagged"),
    [("no, i'm a sophomore. what about you?", False), ("no, i'm a sophomore in high school. what about you?", True)],
)
def test_a_college_sophomore_with_a_wife_is_not_an_adult_posing_as_a_teen(claim, flagged):
    lines = [
        ("b", "hey! are you a freshman too?"),
        ("a", claim),
        ("b", "nice, i'm a junior. what do you do for fun?"),
        ("a", "movies mostly, my wife and i are binge watching the office"),
        ("b", "haha classic"),
    ]
    engine, decisions = run_chat("sophomore", {}, lines, Engine())
    raised = {r.get("signal") for d in decisions for r in d.reasons}
    assert ("suspected_adult_posing_as_teen" in raised) is flagged
    assert not engine.summary("sophomore")["flagged"]
