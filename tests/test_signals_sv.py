"""Swedish detection: each family fires on chat Swedish ("e", "nån", "dej", "u") and not on
near misses ("för 13 år sedan", "ta på dig jackan"). Spans point into the ORIGINAL text.
"""

from __future__ import annotations

import pytest

from trygg.signals.base import Signal
from trygg.signals.detect import detect_signals
from trygg.text.normalize import normalize


def _detect(text: str, language: str = "sv") -> list[Signal]:
    return detect_signals(normalize(text), "s1", language)


# (text, family, words the span must cover, value)
POSITIVES = [
    ("hur gammal är du?", "age_inquiry", "hur gammal är du", None),
    ("hur gammal e u", "age_inquiry", "hur gammal e u", None),
    ("vilken klass går du i?", "age_inquiry", "vilken klass går du i", None),
    ("13, och du?", "age_inquiry", "13, och du?", None),
    ("jag är 13", "age_disclosure", "jag är 13", 13),
    ("ja e 12 lol", "age_disclosure", "ja e 12", 12),
    ("13 år", "age_disclosure", "13 år", 13),
    ("13, går i sjuan", "age_disclosure", "går i sjuan", 13),
    ("går i åttan", "age_disclosure", "går i åttan", 14),
    ("jag går i nian", "age_disclosure", "går i nian", 15),
    ("går på mellanstadiet", "age_disclosure", "mellanstadiet", 11),
    ("jag går i 7an", "age_disclosure", "går i 7an", 13),
    ("tjej 13 från göteborg", "age_disclosure", "tjej 13", 13),
    ("jag är 24 och jobbar", "age_disclosure", "jag är 24", 24),
    ("när jag var i din ålder", "adult_indicator", "när jag var i din ålder", None),
    ("min fru tycker inte om det", "adult_indicator", "min fru", None),
    ("jag är vuxen", "adult_indicator", "jag är vuxen", None),
    ("vilken skola går du på?", "personal_info_request", "vilken skola", None),
    ("är du ensam hemma?", "personal_info_request", "är du ensam hemma", None),
    ("kollar dina föräldrar din mobil?", "personal_info_request", "kollar dina föräldrar din mobil", None),
    ("var bor du", "personal_info_request", "var bor du", None),
    ("du är så mogen för din ålder", "compliments_trust", "mogen för din ålder", None),
    ("du är så fin", "compliments_trust", "du är så fin", None),
    ("du kan lita på mig", "compliments_trust", "du kan lita på mig", None),
    ("säg inget till nån", "secrecy", "säg inget till nån", None),
    ("berätta inte för dina föräldrar", "secrecy", "berätta inte för dina föräldrar", None),
    ("det här är vår hemlighet", "secrecy", "vår hemlighet", None),
    ("radera chatten sen", "secrecy", "radera chatten", None),
    ("dina föräldrar skulle inte förstå", "secrecy", "dina föräldrar skulle inte förstå", None),
    ("dina vänner är barnsliga", "isolation", "dina vänner är barnsliga", None),
    ("bara jag förstår dig", "isolation", "bara jag förstår dig", None),
    ("har du snap?", "platform_migration", "har du snap", None),
    ("lägg till mig på snapchat", "platform_migration", "lägg till mig på snapchat", None),
    ("vi kan ta det på telegram istället", "platform_migration", "telegram", None),
    ("ladda ner den gula spöket", "platform_migration", "gula spöket", None),
    ("ska vi ses på lördag?", "meeting_request", "ska vi ses", None),
    ("jag kan hämta dig efter skolan", "meeting_request", "jag kan hämta dig", None),
    ("ingen behöver veta att vi träffas", "meeting_request", "ingen behöver veta att vi träffas", None),
    ("jag swishar dig 200 kr", "gift_or_money_offer", "jag swishar dig 200 kr", None),
    ("jag kan köpa nya airpods till dig", "gift_or_money_offer", "jag kan köpa nya", None),
    ("500 kr för några bilder", "gift_or_money_offer", "500 kr för några bilder", None),
    ("skicka en bild på dig", "image_request", "bild på dig", None),
    ("bilder utan kläder", "image_request", "bilder utan kläder", None),
    ("har du några privata bilder?", "image_request", "privata bilder", None),
    ("sätt på kameran", "image_request", "sätt på kameran", None),
    ("är du oskuld?", "sexual_talk", "är du oskuld", None),
    ("vad har du på dig nu?", "sexual_talk", "vad har du på dig", None),
    ("har du kysst nån?", "sexual_talk", "har du kysst", None),
    ("jag skickar bilderna till alla dina vänner", "threat", "jag skickar bilderna till alla dina vänner", None),
    ("annars skickar jag dem till din mamma", "threat", "annars skickar", None),
    ("alla kommer se", "threat", "alla kommer se", None),
    ("du har en timme", "threat", "du har en timme", None),
    ("skicka 500 kr", "payment_details", "skicka 500 kr", None),
    ("swisha mig nu", "payment_details", "swisha mig", None),
    ("skicka koden på presentkortet", "payment_details", "koden på presentkortet", None),
]


@pytest.mark.parametrize(
    ("text", "family", "words", "value"), POSITIVES, ids=[f"{i:02d}-{p[1]}" for i, p in enumerate(POSITIVES)]
)
def test_positive(text: str, family: str, words: str, value: int | None) -> None:
    signals = [s for s in _detect(text) if s.name == family and (value is None or s.value == value)]
    assert signals, f"{family}={value} not in {[(s.name, s.value, s.pattern_id) for s in _detect(text)]}"
    signal = max(signals, key=lambda s: s.score)
    start, end = signal.span  # type: ignore[misc]
    assert words.lower() in text[start:end].lower(), (text[start:end], words)
    assert signal.event_id == "s1"


NEGATIVES = [
    ("för 13 år sedan flyttade vi", "age_disclosure", 0.0),
    ("min bror är 13 år", "age_disclosure", 0.0),
    ("jag är 180 cm", "age_disclosure", 0.0),
    ("jag är 5 min sen", "age_disclosure", 0.0),
    ("när jag gick i sjuan var allt bättre", "age_disclosure", 0.0),
    ("hur gammal är din hund?", "age_inquiry", 0.0),
    ("ta på dig jackan, det är kallt", "sexual_talk", 0.0),
    ("vi ses imorgon", "meeting_request", 0.0),
    ("annars går det bra", "threat", 0.0),
    ("jag har bilderna från resan", "threat", 0.0),
    ("säg till när du är klar", "secrecy", 0.0),
    ("mamma, kan du swisha mig 50 kr till bussen?", "payment_details", 0.8),
    ("jag tar bussen till jobbet", "adult_indicator", 0.3),
    ("det var ett kort möte", "image_request", 0.0),
    ("jag tycker om sexan på menyn", "age_disclosure", 0.0),
]


@pytest.mark.parametrize(
    ("text", "family", "max_score"), NEGATIVES, ids=[f"{i:02d}-{n[1]}" for i, n in enumerate(NEGATIVES)]
)
def test_near_miss(text: str, family: str, max_score: float) -> None:
    strongest = max((s.score for s in _detect(text) if s.name == family), default=0.0)
    assert strongest <= max_score, f"{family} scored {strongest} on {text!r}"


def test_grade_and_age_in_one_message_are_one_claim() -> None:
    ages = [s for s in _detect("14, går i åttan") if s.name == "age_disclosure"]
    assert [s.value for s in ages] == [14]


def test_swedish_language_tag_and_english_slang_in_swedish_chat() -> None:
    signals = _detect("add me on snap, har du snap?")
    migration = [s for s in signals if s.name == "platform_migration"]
    assert len(migration) == 1 and migration[0].score == 0.9
    assert migration[0].language == "en"  # the English phrase won; its pack is named


# Paraphrases written apart from the examples above, before the packs were tuned on them
# (first pass: 88 of 103 across both languages); kept as regression cases.
PARAPHRASES = [
    ('hur gml e du', 'age_inquiry'),
    ('vad går du i för klass', 'age_inquiry'),
    ('vilket år e du född', 'age_inquiry'),
    ('ja e bara 12', 'age_disclosure'),
    ('jag fyllde 13 förra veckan', 'age_disclosure'),
    ('jag går i sexan', 'age_disclosure'),
    ('är 14 år', 'age_disclosure'),
    ('vilken skola går du i', 'personal_info_request'),
    ('är dina föräldrar hemma?', 'personal_info_request'),
    ('vart bor du nånstans', 'personal_info_request'),
    ('läser din mamma dina meddelanden?', 'personal_info_request'),
    ('du e så söt', 'compliments_trust'),
    ('du verkar mycket äldre', 'compliments_trust'),
    ('du kan alltid lita på mig', 'compliments_trust'),
    ('du är så vacker', 'compliments_trust'),
    ('berätta inte det här för nån', 'secrecy'),
    ('det här stannar mellan oss', 'secrecy'),
    ('ta bort meddelandena efteråt', 'secrecy'),
    ('säg inget till din mamma', 'secrecy'),
    ('dina kompisar fattar inte dig', 'isolation'),
    ('du behöver inte dina vänner, du har mig', 'isolation'),
    ('vad e ditt snap', 'platform_migration'),
    ('kan vi snacka på whatsapp istället', 'platform_migration'),
    ('adda mig på insta', 'platform_migration'),
    ('har du discord?', 'platform_migration'),
    ('vill du ses nån dag', 'meeting_request'),
    ('jag kan skjutsa dig hem', 'meeting_request'),
    ('kan vi träffas efter skolan', 'meeting_request'),
    ('kom hem till mig ikväll', 'meeting_request'),
    ('jag kan ge dig robux', 'gift_or_money_offer'),
    ('vill du ha pengar?', 'gift_or_money_offer'),
    ('jag köper en ny mobil till dig', 'gift_or_money_offer'),
    ('jag kan swisha dig lite', 'gift_or_money_offer'),
    ('kan du skicka en bild', 'image_request'),
    ('skicka en bild i underkläder', 'image_request'),
    ('visa mig hur du ser ut', 'image_request'),
    ('skicka nakenbilder', 'image_request'),
    ('har du hånglat med nån', 'sexual_talk'),
    ('är du oskuld fortfarande', 'sexual_talk'),
    ('vad har du på dig just nu', 'sexual_talk'),
    ('gillar du äldre killar', 'sexual_talk'),
    ('jag lägger upp bilderna på nätet', 'threat'),
    ('om du inte skickar fler så sprider jag dem', 'threat'),
    ('dina föräldrar kommer få se allt', 'threat'),
    ('du har en timme på dig', 'threat'),
    ('swisha 1000 kr', 'payment_details'),
    ('skicka pengar nu', 'payment_details'),
    ('köp ett presentkort och skicka koden', 'payment_details'),
    ('betala 500 kr annars', 'payment_details'),
    ('kom precis hem från jobbet', 'adult_indicator'),
    ('min fru är bortrest', 'adult_indicator'),
    # second round (first pass: 83 of 104 across both languages)
    ('hur gammal e du egentligen', 'age_inquiry'),
    ('e du typ 14?', 'age_inquiry'),
    ('vad är du för årgång', 'age_inquiry'),
    ('hur gamal är du', 'age_inquiry'),
    ('jag är bara 12 år', 'age_disclosure'),
    ('jag fyller 14 i juni', 'age_disclosure'),
    ('e 13', 'age_disclosure'),
    ('jag börjar sjuan i höst', 'age_disclosure'),
    ('vad heter din skola', 'personal_info_request'),
    ('är du själv hemma nu', 'personal_info_request'),
    ('när kommer dina föräldrar hem', 'personal_info_request'),
    ('vad har du för adress', 'personal_info_request'),
    ('du är så himla söt', 'compliments_trust'),
    ('du e snyggare än alla i din klass', 'compliments_trust'),
    ('du är verkligen speciell', 'compliments_trust'),
    ('jag bryr mig om dig på riktigt', 'compliments_trust'),
    ('visa inte det här för någon', 'secrecy'),
    ('säg inget till dina föräldrar om mig', 'secrecy'),
    ('radera allt vi skrivit', 'secrecy'),
    ('det här är mellan oss två', 'secrecy'),
    ('dom bryr sig inte om dig', 'isolation'),
    ('ingen förstår dig som jag gör', 'isolation'),
    ('lägg till mig på insta', 'platform_migration'),
    ('vi kan ta det på snap', 'platform_migration'),
    ('har du kik?', 'platform_migration'),
    ('skriv till mig på telegram', 'platform_migration'),
    ('när kan vi ses', 'meeting_request'),
    ('jag kan komma och hämta dig', 'meeting_request'),
    ('vill du träffa mig', 'meeting_request'),
    ('kan vi ses i helgen', 'meeting_request'),
    ('jag kan köpa vad du vill', 'gift_or_money_offer'),
    ('vill du ha v-bucks', 'gift_or_money_offer'),
    ('jag ger dig 500 kr', 'gift_or_money_offer'),
    ('jag kan ge dig ett presentkort', 'gift_or_money_offer'),
    ('skicka en selfie', 'image_request'),
    ('får jag se en bild på dig', 'image_request'),
    ('skicka bilder på dig', 'image_request'),
    ('visa din kropp', 'image_request'),
    ('har du legat med nån', 'sexual_talk'),
    ('sover du naken', 'sexual_talk'),
    ('vad har du för underkläder', 'sexual_talk'),
    ('har du hånglat nån gång', 'sexual_talk'),
    ('jag lägger ut bilderna', 'threat'),
    ('alla i din skola kommer se dem', 'threat'),
    ('gör det annars sprider jag dem', 'threat'),
    ('du har till midnatt', 'threat'),
    ('swisha mig 500', 'payment_details'),
    ('skicka 2000 kr nu', 'payment_details'),
    ('jag vill ha koden till presentkortet', 'payment_details'),
    ('betala annars', 'payment_details'),
    ('min exfru har barnen', 'adult_indicator'),
    ('efter jobbet kan vi snacka', 'adult_indicator'),
]


@pytest.mark.parametrize(("text", "family"), PARAPHRASES, ids=[f"{i:02d}-{p[1]}" for i, p in enumerate(PARAPHRASES)])
def test_paraphrase(text: str, family: str) -> None:
    assert family in {s.name for s in _detect(text)}


@pytest.mark.data
def test_scenario_tactics_are_detected_sv() -> None:
    from test_signals_en import (
        scenario_tactic_recall,  # tests/ is on sys.path (pytest rootdir)
    )

    shown, total = scenario_tactic_recall("sv")
    assert shown / total >= 0.85, f"{shown}/{total}"
