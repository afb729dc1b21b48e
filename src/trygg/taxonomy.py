"""One taxonomy of signal families and grooming stages, read by rules, state and model alike.

Why one place: the rules' risk fusion, the conversation state and the learned model's features
all group families into stages. When each kept its own grouping they disagreed (the model put
gifts with escalation and personal-information requests with trust; the fusion put them with
trust-building and isolation), so the same message meant different things to the two halves of
the detector. Language packs may only define families named here (``trygg.lang.pack`` checks).

The stages follow the grooming literature's order (O'Connell 2003; the ChatCoder2 codebook):
trust building (flattery, gifts, asking age), isolation and risk assessment (secrecy, personal
information, moving to another app), sexualisation (sexual talk, asking for images), then
meeting or coercion (arranging to meet, threats). Some families carry no stage of their own:
an age stated, adult-life cues, payment details (a Swish number is ordinary between friends).
"""

from __future__ import annotations

#: The tactic families; the learned model reads exactly these as features, in this order, so a
#: change here needs a retrained model (``trygg train``).
SIGNAL_FAMILIES: tuple[str, ...] = (
    "age_inquiry",
    "age_disclosure",
    "adult_indicator",
    "personal_info_request",
    "compliments_trust",
    "secrecy",
    "isolation",
    "platform_migration",
    "meeting_request",
    "gift_or_money_offer",
    "image_request",
    "sexual_talk",
    "threat",
    "payment_details",
)

#: Context families (issue 9): they say who is speaking and how, not which tactic is used, so the
#: learned model does not read them; the age picture and the conversation state combine them
#: with the tactics. ``deadline``: time pressure ("you have 24 hours", "innan ikväll"), what turns
#: a threat and a demand into an ultimatum. ``implied_age``: life-stage cues of the speaker's own
#: age (school stage, bedtimes, parents' rules, a first phone) with an estimated age as ``value``.
#: ``ascribed_age``: the age the speaker's words give the one they write to ("cool for a 7th
#: grader", "du e ju bara 12"), as ``value``; it goes to the recipient's age picture.
#: ``protective``: safety advice to a peer (screenshot, block, report, tell an adult, Bris).
#: ``reported_speech``: the speaker retells what someone else wrote ("a guy offered me...").
#: ``family_cue``: the speaker writes as the other's family ("love, grandma", "mormor här").
#: ``distress``: the speaker is frightened or in crisis ("I don't want to live", "snälla sluta").
#: ``first_contact``: the speaker says how they found the other online ("saw ur dance vid", "det
#: är Mikael från Fortnite-lobbyn", "you don't know me but"): a stranger, not family or a coach.
#: ``wary``: the speaker distrusts the one they talk to ("who is this", "how do you know my bus
#: stop", "du e ju vuxen", "stop messaging me"): a child's own alarm at a stranger's approach.
CONTEXT_FAMILIES: tuple[str, ...] = (
    "deadline",
    "implied_age",
    "ascribed_age",
    "protective",
    "reported_speech",
    "family_cue",
    "distress",
    "wary",
    "first_contact",
)

#: Families that detectors other than the language packs find (no pack may define them).
#: ``transcript``: the message is a whole chat chunk that the semantic model and the rules,
#: read together as ``trygg classify`` does, label predatory (``trygg.detectors.transcript``).
DETECTOR_FAMILIES: tuple[str, ...] = ("transcript",)

#: Every family a language pack may define.
ALL_FAMILIES: tuple[str, ...] = SIGNAL_FAMILIES + CONTEXT_FAMILIES

#: Stages of grooming, in order (index = stage number; 0 = none).
STAGES: tuple[str, ...] = ("none", "trust_building", "isolation", "sexualisation", "meeting_or_threat")

#: The stage each family belongs to (0: the family carries no stage on its own).
FAMILY_STAGE: dict[str, int] = {
    "age_inquiry": 1,
    "age_disclosure": 0,
    "adult_indicator": 0,
    "personal_info_request": 2,
    "compliments_trust": 1,
    "secrecy": 2,
    "isolation": 2,
    "platform_migration": 2,
    "meeting_request": 4,
    "gift_or_money_offer": 1,
    "image_request": 3,
    "sexual_talk": 3,
    "threat": 4,
    "payment_details": 0,
    **{family: 0 for family in CONTEXT_FAMILIES + DETECTOR_FAMILIES},
}


def families_of_stage(stage: int) -> tuple[str, ...]:
    """The families of one stage, in :data:`SIGNAL_FAMILIES` order."""
    return tuple(f for f in SIGNAL_FAMILIES if FAMILY_STAGE[f] == stage)


#: The stages that carry families (1..4), by name: what the model counts per author.
STAGE_FAMILIES: dict[str, tuple[str, ...]] = {STAGES[s]: families_of_stage(s) for s in range(1, len(STAGES))}

assert set(FAMILY_STAGE) == set(ALL_FAMILIES + DETECTOR_FAMILIES), "every family needs a stage (0 for none)"
