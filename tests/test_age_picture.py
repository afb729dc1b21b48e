"""The age picture: who is likely a minor, who an adult, and who is posing as a teen."""

import json

import pytest

from trygg.age.picture import AgeBook, AgePicture
from trygg.signals.base import Signal


def age(value, event_id="e1", span=None):
    return Signal("age_disclosure", 0.9, event_id, span=span, value=value)


def adult(score=0.8, event_id="e2"):
    return Signal("adult_indicator", score, event_id)


def test_unknown_user_is_neither_minor_nor_adult():
    pic = AgePicture("u")
    assert pic.p_adult == 0.5
    assert not pic.likely_minor and not pic.likely_adult
    assert pic.best_age_estimate is None


def test_declared_minor_is_likely_minor():
    pic = AgePicture("u")
    assert pic.declare(14)
    assert pic.likely_minor and not pic.likely_adult
    assert pic.best_age_estimate == 14
    assert not pic.declare(14)  # no change


def test_stated_age_outweighs_declared_adult_age():
    pic = AgePicture("u", declared_age=21)
    pic.observe([age(13)])
    assert pic.likely_minor
    assert pic.best_age_estimate == 13


def test_declared_teen_who_says_adult_age_is_suspected_deception():
    pic = AgePicture("u", declared_age=16)
    pic.observe([age(34, "e9")])
    assert pic.suspected_age_deception
    assert pic.likely_adult
    assert pic.best_age_estimate == 34


def test_declared_teen_with_adult_indicator_is_suspected_deception():
    pic = AgePicture("u", declared_age=15)
    assert not pic.suspected_age_deception
    pic.observe([adult(0.8)])
    assert pic.suspected_age_deception and pic.likely_adult
    assert pic.adult_indicator_events == ["e2"]


def test_weak_adult_indicator_alone_does_not_contradict():
    pic = AgePicture("u", declared_age=15)
    pic.observe([adult(0.3)])
    assert not pic.suspected_age_deception
    assert pic.likely_minor


def test_asked_age_is_not_a_stated_age():
    text = "how old are you? 13?"
    pic = AgePicture("u")
    assert not pic.observe([age(13, span=(17, 19))], text)
    assert pic.stated_ages == []
    pic.observe([age(13, span=(4, 6))], "im 13 wbu?")
    assert pic.stated_minor_age == 13


def test_implausible_ages_are_ignored():
    pic = AgePicture("u")
    assert not pic.observe([age(3), age(150), age("x")])
    assert pic.p_adult == 0.5


def test_stated_ages_are_bounded():
    pic = AgePicture("u")
    for i in range(30):
        pic.observe([age(10 + i % 2, f"e{i}")])
    assert len(pic.stated_ages) <= 6


def test_round_trip_through_json():
    pic = AgePicture("u", declared_age=15)
    pic.observe([age(34, "e3"), adult(0.7, "e4")])
    again = AgePicture.from_dict(json.loads(json.dumps(pic.to_dict())))
    assert again == pic
    assert again.suspected_age_deception


def test_from_dict_rejects_garbage():
    with pytest.raises(ValueError, match="age picture"):
        AgePicture.from_dict({"declared_age": 3})


def test_age_book_peek_does_not_create():
    book = AgeBook()
    assert book.peek("nobody").p_adult == 0.5
    assert "nobody" not in book
    book.picture("a").declare(12)
    assert book.peek("a").likely_minor


def test_a_loose_adult_number_does_not_overturn_a_clear_minor_claim():
    pic = AgePicture("u")
    pic.observe([age(13, "e1")])  # "i'm 13"
    pic.observe([Signal("age_disclosure", 0.4, "e2", value=41)])  # a bare "41" (mum's age?)
    assert pic.likely_minor and not pic.suspected_age_deception


def test_a_clear_adult_claim_outweighs_a_bare_minor_number():
    pic = AgePicture("u")
    pic.observe([Signal("age_disclosure", 0.4, "e1", value=10)])  # a bare "10"
    pic.observe([age(35, "e2")])  # "im 35"
    assert pic.likely_adult and not pic.suspected_age_deception
    assert pic.best_age_estimate == 35


def test_loose_adult_number_alone_leans_adult():
    pic = AgePicture("u")
    pic.observe([Signal("age_disclosure", 0.4, "e1", value=30)])
    assert pic.likely_adult and pic.p_adult < 0.9


def test_contradicting_loose_numbers_leave_the_age_unknown():
    pic = AgePicture("u")
    pic.observe([Signal("age_disclosure", 0.4, "e1", value=28), Signal("age_disclosure", 0.4, "e2", value=9)])
    assert not pic.likely_minor and not pic.likely_adult
