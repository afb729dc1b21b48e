"""Issue 9, deliverable 1: money, game currency or a gift card offered for pictures of the one
written to is solicitation on its own toward a likely minor, however the offer is worded.

The packs read the offer as it is built (an amount, then "for / per / each / if you show",
then the pictures), not as a list of sentences, so wordings nobody listed still read. The near
misses are the same shapes about something else: a picture of the receipt, a price for a bike,
notes for homework, a film at the cinema. Sentences written for these tests.
"""

import pytest

from test_detection_standalone import SEVERE, run_chat

from trygg.conversation.severe import PRICED_IMAGES
from trygg.signals.detect import detect_signals
from trygg.text.normalize import normalize


def offer(text: str, language: str) -> float:
    return max((s.score for s in detect_signals(normalize(text), "e", language) if s.name == "gift_or_money_offer"), default=0.0)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ill send 40 bucks to ur cashapp for one in ur bra", "en"),
        ("how much for a pic of u in the shower", "en"),
        ("name ur price for some spicy snaps", "en"),
        ("i pay well for private stuff", "en"),
        ("want a 25 dollar steam card? just need a quick vid", "en"),
        ("1000 robux if u show me", "en"),
        ("gift card for every photo u send", "en"),
        ("20 bucks per selfie", "en"),
        ("jag swishar 300 till ditt nummer för en i bara underkläderna", "sv"),
        ("hur mycket vill du ha för en bild", "sv"),
        ("säg ett pris för några privata bilder", "sv"),
        ("jag betalar bra för privata grejer", "sv"),
        ("vill du ha ett presentkort på 500? behöver bara en snabb video", "sv"),
        ("1000 robux om du visar mig", "sv"),
        ("ett presentkort för varje bild du skickar", "sv"),
        ("wie viel willst du für ein bild", "de"),
        ("ich zahle gut für private sachen", "de"),
        ("1000 robux wenn du es mir zeigst", "de"),
        ("eine geschenkkarte für jedes foto", "de"),
        ("hoeveel wil je voor een foto", "nl"),
        ("ik betaal goed voor privé dingen", "nl"),
        ("1000 robux als je het laat zien", "nl"),
        # Where the pictures go, or how they are taken, is not what they are of.
        ("50 bucks for pics on snap", "en"),
        ("i'll give u 100 robux for a pic with no filter", "en"),
        ("200 kr för en bild på snap", "sv"),
        ("500 kr för en bild med kameran på", "sv"),
        ("20 euro voor een foto op snap", "nl"),
        ("300 kr för ett kort på dig", "sv"),  # 'kort' is a photo too, when it is of you
    ],
)
def test_money_for_pictures_reads_as_priced_pictures_in_any_wording(text, language):
    assert offer(text, language) >= PRICED_IMAGES


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("i'll pay 20 bucks for a pic of the receipt", "en"),
        ("how much for a photo of the bike", "en"),
        ("how much for the bike", "en"),
        ("name your price for the couch", "en"),
        ("10 bucks if u send me the notes", "en"),
        ("5 bucks if u show me how", "en"),
        ("jag swishar 50 för en bild på kvittot", "sv"),
        ("50 kr per bild på varorna", "sv"),
        ("hur mycket vill du ha för cykeln", "sv"),
        ("100 kr för en film på bio", "sv"),
        ("300 kr för kortet", "sv"),
        ("50 kr om du visar mig hur man gör", "sv"),
        ("ich zahle 20 euro für ein foto vom kassenbon", "de"),
        ("wie viel für das fahrrad", "de"),
        ("10 euro wenn du mir zeigst wie das geht", "de"),
        ("ik betaal 20 euro voor een foto van de bon", "nl"),
        ("hoeveel voor de fiets", "nl"),
        ("10 euro als je het laat zien hoe het moet", "nl"),
    ],
)
def test_a_price_for_something_else_is_not_priced_pictures(text, language):
    assert offer(text, language) < PRICED_IMAGES


@pytest.mark.parametrize(
    ("line", "greeting", "age", "reported"),
    [
        ("how much for a pic of u in the shower", "hey", 14, True),
        ("how much for a pic of u in the shower", "hey", 31, False),
        ("jag swishar 50 för en bild på kvittot", "hej", 14, False),
        ("1000 robux om du visar mig", "hej", 13, True),
    ],
)
def test_one_priced_picture_offer_to_a_child_is_reported_at_once(line, greeting, age, reported):
    lines = [("b", greeting), ("a", line)]
    engine, decisions = run_chat(f"priced-{age}-{len(line)}", {"b": age}, lines)
    assert ("report" in decisions[-1].actions) is reported
    assert bool(SEVERE & set(decisions[-1].actions)) is reported
