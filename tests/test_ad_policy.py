"""Ads for minors: profiling dropped or refused, blocked categories, ratings per band."""

from dataclasses import replace

import pytest

from policy_cases import account, ad
from trygg.engine import Engine
from trygg.events import parse_event
from trygg.policy import Policy
from trygg.policy.ads import profiling_keys

BLOCKED = ["gambling", "alcohol", "tobacco_vaping", "dating", "weight_loss", "cosmetic_procedures", "adult_content", "loot_boxes"]


def decide(age, obj, policy=None):
    engine = Engine(policy=policy)
    if age is not None:
        engine.process(parse_event(account("u", age)))
    return engine.process(parse_event(obj))


@pytest.mark.parametrize("category", BLOCKED)
def test_each_blocked_category_is_blocked_for_a_minor_only(category):
    decision = decide(15, ad("a1", "u", categories=[category, "music"]))
    assert decision.actions == ("block",)
    assert decision.reasons[0]["rule"] == "ads.blocked_categories_for_minors" and decision.reasons[0]["value"] == [category]
    assert decide(30, ad("a1", "u", categories=[category])).actions == ("allow",)


def test_profiling_refused_by_configuration():
    base = Policy.default()
    refuse = replace(base, protection=replace(base.protection, ads=replace(base.protection.ads, profiling_for_minors="refuse")))
    decision = decide(14, ad("a1", "u", targeting=["interest:skate"]), refuse)
    assert decision.actions == ("block",) and decision.reasons[0]["rule"] == "ads.profiling_for_minors"
    assert decide(14, ad("a1", "u", targeting=["context:skate", "language:sv"]), refuse).actions == ("allow",)


def test_profiling_keys_are_the_non_contextual_ones():
    assert profiling_keys(["context:x", "interest:y", "lookalike:z", "country:SE"], ("context:", "country:")) == ["interest:y", "lookalike:z"]


def test_an_adults_targeting_is_left_alone():
    decision = decide(30, ad("a1", "u", targeting=["interest:cars"]))
    assert decision.actions == ("allow",) and not decision.reasons


def test_ratings_follow_the_band():
    assert decide(12, ad("a1", "u", rating="teen")).reasons[0]["rule"] == "content_ratings.under_13"
    assert decide(15, ad("a1", "u", rating="teen")).actions == ("allow",)
    assert decide(17, ad("a1", "u", rating="adult")).actions == ("block",)
    assert decide(30, ad("a1", "u", rating="adult")).actions == ("allow",)
    assert decide(None, ad("a1", "u", rating="adult")).actions == ("allow",)  # unknown reads as adult by default


def test_a_declared_adult_who_says_13_gets_minor_ads():
    engine = Engine()
    engine.process(parse_event(account("u", 22)))
    engine.process(parse_event({"type": "message", "event_id": "m1", "conversation_id": "c", "sender_id": "u", "recipient_id": "v", "text": "im 13"}))
    assert engine.process(parse_event(ad("a1", "u", categories=["dating"]))).actions == ("block",)
