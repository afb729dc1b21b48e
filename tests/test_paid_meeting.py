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
