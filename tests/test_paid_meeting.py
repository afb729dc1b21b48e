"""Issue 9: money offered to a child for their company is how an adult buys access.

An offer and a meeting toward a likely minor add a coercion term in the fusion
(``trygg.conversation.risk.PAID_MEETING``): beside a secret it alerts. It is not a severe pattern
on its own, and a known family link shrinks it, because a grandparent's "come for dinner, I'll
give you your birthday money" has the same two words. Chats written for these tests.
"""

from test_detection_standalone import relationship, run_chat

from trygg.conversation.risk import PAID_MEETING, fuse
from trygg.engine import Engine

PAID_VISIT = [
    ("a", "hej, du spelar fotboll va"),
    ("b", "ja"),
    ("a", "jag ger dig 800 kr om du kommer hem till mig på lördag"),
    ("b", "varför då"),
    ("a", "bara för att hänga. och ingen behöver veta"),
]

GRANDPARENT_VISIT = [
    ("a", "hej gumman, kommer du hem till mig på lördag?"),
    ("b", "ja!"),
    ("a", "jag ger dig 800 kr om du kommer hem till mig, det är din födelsedagspresent"),
    ("b", "tack mormor"),
    ("a", "ingen behöver veta att det var extra i år"),
]


def test_an_offer_beside_a_meeting_toward_a_child_weighs_more_than_either():
    offer_and_meeting = {"gift_or_money_offer": (0.75, 1), "meeting_request": (0.5, 1)}
    offer_alone = {"gift_or_money_offer": (0.75, 1)}
    with_both = fuse(offer_and_meeting, 0.9, 0.9)
    toward_adult = fuse(offer_and_meeting, 0.9, 0.2)
    assert with_both.risk > fuse(offer_alone, 0.9, 0.9).risk
    assert with_both.risk > toward_adult.risk
    assert PAID_MEETING > 0


def test_a_stranger_paying_a_child_to_come_home_in_secret_alerts():
    engine, decisions = run_chat("paid_visit", {"b": 14}, PAID_VISIT)
    summary = engine.summary("paid_visit")
    assert summary["flagged"] and summary["offender_id"] == "paid_visit:a"
    assert not any("report" in d.actions for d in decisions)  # an alert, not a severe pattern


def test_a_grandparent_with_a_family_link_is_not_flagged_for_the_same_offer():
    engine = Engine()
    engine.process(relationship("gran_visit", "family"))
    engine, _ = run_chat("gran_visit", {"b": 14}, GRANDPARENT_VISIT, engine=engine)
    assert not engine.summary("gran_visit")["flagged"]


def test_a_gift_offered_a_few_messages_ago_still_counts_as_a_stage():
    """A 0.5 offer decays to 0.498 a message later; it must not drop out of the stages then."""
    from trygg.conversation.risk import GIFT_PRESENT, HALF_LIFE_MESSAGES, PRESENT_SLACK, decayed

    faded = decayed(GIFT_PRESENT, 0, 3)
    assert faded < GIFT_PRESENT and faded + PRESENT_SLACK >= GIFT_PRESENT
    fresh = fuse({"gift_or_money_offer": (GIFT_PRESENT, 1), "isolation": (0.65, 1)}, 0.9, 0.9)
    later = fuse({"gift_or_money_offer": (faded, 1), "isolation": (0.65, 1)}, 0.9, 0.9)
    assert later.stage == fresh.stage
    assert abs(later.risk - fresh.risk) < 0.01
    long_ago = decayed(GIFT_PRESENT, 0, int(HALF_LIFE_MESSAGES))
    assert fuse({"gift_or_money_offer": (long_ago, 1), "isolation": (0.65, 1)}, 0.9, 0.9).risk < later.risk
