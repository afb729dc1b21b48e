"""Grooming recall (issue 9): a wide repertoire of mild tactics, and singling a child out of a room.

Chats here are written for these tests (sv and en), short and non-graphic.
"""

from trygg.conversation import risk
from trygg.conversation.risk import fuse

MILD = 0.55  # each tactic phrased loosely: below the stage-presence line, above the breadth line


def _scores(*families):
    return {family: (MILD, 1) for family in families}


def test_a_wider_repertoire_toward_a_minor_raises_the_risk():
    two = fuse(_scores("compliments_trust", "secrecy"), 0.5, 0.8).risk
    five = fuse(_scores("compliments_trust", "secrecy", "platform_migration", "personal_info_request", "age_inquiry"), 0.5, 0.8).risk
    assert five > two + 0.3


def test_breadth_adds_nothing_toward_a_known_adult(monkeypatch):
    families = _scores("compliments_trust", "secrecy", "platform_migration", "personal_info_request", "age_inquiry")
    toward_adult, toward_minor = fuse(families, 0.9, 0.1).risk, fuse(families, 0.9, 0.8).risk
    monkeypatch.setattr(risk, "BREADTH", 0.0)
    assert fuse(families, 0.9, 0.1).risk == toward_adult
    assert fuse(families, 0.9, 0.8).risk < toward_minor


def test_breadth_between_two_teens_stays_below_alert():
    families = ("compliments_trust", "secrecy", "platform_migration", "personal_info_request", "age_inquiry")
    peer = fuse(_scores(*families), 0.12, 0.88).risk
    adult = fuse(_scores(*families), 0.9, 0.88).risk
    assert peer < 0.6 <= adult
