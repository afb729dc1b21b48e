"""Severe patterns that stand alone: sextortion and solicitation of a child (issue 9).

Why they bypass the grooming stages: the fusion in :mod:`trygg.conversation.risk` asks for
tactics from several stages before it alerts, because every grooming cue alone has an innocent
reading. Sextortion and solicitation have none. A threat to expose someone together with a
demand is extortion whoever says it and whatever came before; money or gifts offered to a child
for intimate images is solicitation on the first message. Offenders who extort often skip any
trust-building (the images came from somewhere else, or from an account posing as a peer), so
waiting for the stages misses exactly the fastest, most harmful cases.

Each pattern is a conjunction of behaviours, each a family the language packs detect in their
own words, so the rule is the same in every language:

* **sextortion** = ``threat`` (to share images or tell family, school, followers) + a demand
  (``payment_details``: money, a gift-card code, a payment app; or ``image_request``: more
  images), aimed at a user not known to be an adult (a minor, or of unknown age). A weaker
  threat (a bare "I have your pictures") needs an ultimatum with it: a ``deadline``, or the
  target's ``distress``. A threat to expose the images to an audience (the packs' 0.8 and
  above: "or I post them in the class chat") with an ultimatum is sextortion whatever is
  demanded: to get back together, to keep quiet, to meet ("you have until tomorrow to change
  your mind").
* **solicitation** = ``gift_or_money_offer`` + an intimate ``image_request`` (or one explicit
  money-for-pictures offer with any request for pictures, or an offer that names the pictures
  itself: "300 kr per bild", "$50 for a pic"), aimed at a likely minor. Adults pay adults for
  images too; that is not this engine's harm, so the target's age decides.

A pattern found lifts the candidate's risk to :data:`SEVERE_RISK`, which the default policy
answers with ``report``. Context never hides a pattern except protective talk (the "offender"
is a friend retelling what a stranger wrote, see :mod:`trygg.conversation.state`).
"""

from __future__ import annotations

from collections.abc import Mapping

#: Risk a severe pattern lifts its candidate to (above every severe action's threshold).
SEVERE_RISK = 0.9
#: Target p_minor below which the target is a known adult: no severe floor.
NOT_ADULT = 0.35
#: Target p_minor from which the target is a likely minor (solicitation needs one).
LIKELY_MINOR = 0.65
#: A threat this strong (conditional exposure: "or your class sees it", "leak", "expose") needs
#: only a demand beside it. Plain sharing with family ("I'll show it to your mom", 0.6) is below
#: it: that is also how grandparents share photos.
CLEAR_THREAT = 0.7
#: A weaker threat ("I kept everything", 0.65) needs a demand and an ultimatum. Above a bare
#: deadline or "I'll tell your parents" (0.5-0.6 in the packs): a seller and a sibling say those.
THREAT = 0.62
DEMAND = 0.5
ULTIMATUM = 0.5
#: A threat of this strength (exposure to an audience) with an ultimatum needs no demand of
#: money or images beside it: the ultimatum is the demand.
EXPOSURE_THREAT = 0.8
#: Solicitation: an offer of this score plus an intimate image request (private, underwear,
#: nudes; a plain "send a pic of you" scores lower and is what grandparents ask too) ...
OFFER = 0.5
INTIMATE_IMAGE = 0.75
#: ... or an explicit money-for-pictures offer plus any mention of pictures.
EXPLICIT_OFFER = 0.9
ANY_IMAGE = 0.3
#: An offer whose own words name the pictures it pays for (the packs' money-for-pictures
#: entries, 0.95): the request is inside the offer, so it needs nothing beside it.
PRICED_IMAGES = 0.95


def severe_pattern(
    scores: Mapping[str, tuple[float, int]], p_minor_target: float, distress: float = 0.0
) -> str | None:
    """``"sextortion"``, ``"solicitation"`` or None for one candidate's decayed family scores."""
    if p_minor_target < NOT_ADULT:
        return None

    def score(family: str) -> float:
        entry = scores.get(family)
        return entry[0] if entry is not None else 0.0

    threat = score("threat")
    image = score("image_request")
    if threat >= THREAT:
        demand = max(score("payment_details"), image)
        ultimatum = max(score("deadline"), distress) >= ULTIMATUM
        if (demand >= DEMAND and (threat >= CLEAR_THREAT or ultimatum)) or (threat >= EXPOSURE_THREAT and ultimatum):
            return "sextortion"
    if p_minor_target >= LIKELY_MINOR:
        offer = score("gift_or_money_offer")
        if (
            (offer >= OFFER and image >= INTIMATE_IMAGE)
            or (offer >= EXPLICIT_OFFER and image >= ANY_IMAGE)
            or offer >= PRICED_IMAGES
        ):
            return "solicitation"
    return None
