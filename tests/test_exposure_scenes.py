"""Issue 9, deliverable 1: a threat to expose a child's pictures is read however it is framed.

The packs listed exposure as a statement ("I'll send it to your mum"). Extortion is as often a
scene the child is made to picture ("imagine if your followers saw this", "I'll make sure the
whole class sees your nudes"), a question ("want me to DM her this?"), or a consequence ("or this
goes public"), in every language. Beside a demand each is sextortion; alone none of them is,
and the same scene about a goal, a report card or a form is no threat at all. Sentences written
for these tests.
"""

import pytest

from test_detection_standalone import run_chat

from trygg.conversation.severe import CLEAR_THREAT
from trygg.signals.detect import detect_signals
from trygg.text.normalize import normalize


def threat(text: str, language: str) -> float:
    return max((s.score for s in detect_signals(normalize(text), "e", language) if s.name == "threat"), default=0.0)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("i'll make sure the whole class sees ur nudes", "en"),
        ("imagine if ur followers saw this", "en"),
        ("i know ur sisters insta, want me to dm her this?", "en"),
        ("send 100 or this goes public", "en"),
        ("jag ser till att hela klassen ser dina nakenbilder", "sv"),
        ("tänk om dina följare såg det här", "sv"),
        ("skicka 500 annars blir det offentligt", "sv"),
        ("swisha 300 eller så åker det ut", "sv"),
        ("ich sorge dafür dass die ganze klasse deine nacktbilder sieht", "de"),
        ("stell dir vor deine follower sehen das", "de"),
        ("soll ich das deiner schwester schicken?", "de"),
        ("ik zorg dat de hele klas je naaktfoto's ziet", "nl"),
        ("stel je voor dat je volgers dit zien", "nl"),
        ("zal ik dit naar je zus sturen?", "nl"),
    ],
)
def test_an_exposure_scene_question_or_consequence_is_a_clear_threat(text, language):
    assert threat(text, language) >= CLEAR_THREAT


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("imagine if everyone saw this goal lol", "en"),
        ("make sure your mom sees the report card", "en"),
        ("make sure ur mum gets it signed", "en"),
        ("want me to text her this address?", "en"),
        ("tänk om hela klassen såg det här målet haha", "sv"),
        ("se till att din mamma ser det påskrivet", "sv"),
        ("stell dir vor deine mama sieht dein zeugnis", "de"),
        ("stel je voor dat je moeder je rapport ziet", "nl"),
    ],
)
def test_the_same_scene_about_a_goal_or_a_form_is_no_threat(text, language):
    assert threat(text, language) < CLEAR_THREAT


@pytest.mark.parametrize(
    ("lines", "reported"),
    [
        ([("a", "hey remember me"), ("b", "?"), ("a", "send 100 or this goes public")], True),
        ([("a", "hej"), ("b", "vem e du"), ("a", "tänk om dina följare såg det här. swisha 300 ikväll")], True),
        ([("a", "imagine if ur followers saw this"), ("b", "lol it was such a good goal")], False),
    ],
)
def test_a_framed_threat_with_a_demand_is_reported_and_alone_it_is_not(lines, reported):
    name = f"scene-{len(lines[-1][1])}"
    engine, decisions = run_chat(name, {"b": 14}, lines)
    assert any("report" in d.actions for d in decisions) is reported
    assert (engine.summary(name).get("label_guess") == "sextortion") is reported
