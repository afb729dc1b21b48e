"""English detection: each family fires on typical chat phrasings and not on near misses.

Each positive checks the family, the extracted value (ages) and that the span points at the
right words of the ORIGINAL text. Explicit vocabulary stays in the pack; examples here are mild.
"""

from __future__ import annotations

import pytest

from trygg.signals.base import Signal
from trygg.signals.detect import detect_signals
from trygg.text.normalize import normalize


def _detect(text: str, language: str = "en") -> list[Signal]:
    return detect_signals(normalize(text), "e1", language)


def _one(signals: list[Signal], family: str) -> Signal:
    found = [s for s in signals if s.name == family]
    assert found, f"{family} not detected; got {[(s.name, s.pattern_id) for s in signals]}"
    return max(found, key=lambda s: s.score)


# (text, family, words the span must cover, value)
POSITIVES = [
    ("hey how old r u?", "age_inquiry", "how old r u", None),
    ("asl?", "age_inquiry", "asl", None),
    ("what grade are you in", "age_inquiry", "what grade are you in", None),
    ("im 14, u?", "age_inquiry", "14, u?", None),
    ("i'm 12 lol", "age_disclosure", "i'm 12", 12),
    ("Im 13 and bored", "age_disclosure", "Im 13", 13),
    ("12yo here", "age_disclosure", "12yo", 12),
    ("13/f/cali", "age_disclosure", "13/f", 13),
    ("14 f sweden", "age_disclosure", "14 f", 14),
    ("i'm in 7th grade", "age_disclosure", "7th grade", 12),
    ("8th grade sucks", "age_disclosure", "8th grade", 13),
    ("im a freshman", "age_disclosure", "freshman", 14),
    ("i'm 24 but i feel younger", "age_disclosure", "i'm 24", 24),
    ("35/m", "age_disclosure", "35/m", 35),
    ("when i was your age i was shy", "adult_indicator", "when i was your age", None),
    ("just drove home from work, my wife is asleep", "adult_indicator", "my wife", None),
    ("what school do u go to", "personal_info_request", "what school", None),
    ("are you home alone rn?", "personal_info_request", "are you home alone", None),
    ("do your parents check your phone?", "personal_info_request", "do your parents check your phone", None),
    ("you're so mature for your age", "compliments_trust", "mature for your age", None),
    ("ur really mature for 14", "compliments_trust", "mature for 14", None),
    ("i understand you better than your friends do", "compliments_trust", "i understand you better than", None),
    ("you can trust me", "compliments_trust", "you can trust me", None),
    ("don't tell anyone about this ok", "secrecy", "don't tell anyone", None),
    ("dont tell ur parents", "secrecy", "dont tell ur parents", None),
    ("this is our little secret", "secrecy", "our little secret", None),
    ("delete this chat after", "secrecy", "delete this chat", None),
    ("your parents wouldn't understand", "secrecy", "your parents wouldn't understand", None),
    ("your friends don't get you", "isolation", "your friends don't get you", None),
    ("only i understand you", "isolation", "only i understand you", None),
    ("you don't need them", "isolation", "you don't need them", None),
    ("add me on snap, it's more private", "platform_migration", "add me on snap", None),
    ("whats ur snap", "platform_migration", "whats ur snap", None),
    ("lets move to telegram", "platform_migration", "move to telegram", None),
    ("download the yellow ghost app", "platform_migration", "yellow ghost", None),
    ("let's meet this weekend", "meeting_request", "let's meet", None),
    ("i can pick you up after school", "meeting_request", "i can pick you up", None),
    ("nobody has to know we met", "meeting_request", "nobody has to know we met", None),
    ("i'll send you $50 for some pics", "gift_or_money_offer", "$50 for some pics", None),
    ("i can buy you a new phone", "gift_or_money_offer", "buy you a", None),
    ("want free robux?", "gift_or_money_offer", "free robux", None),
    ("send me some private pics", "image_request", "private pics", None),
    ("send a pic of you", "image_request", "send a pic of you", None),
    ("send nudes", "image_request", "nudes", None),
    ("turn your camera on", "image_request", "camera on", None),
    ("have you ever been kissed?", "sexual_talk", "have you ever been kissed", None),
    ("what are you wearing rn", "sexual_talk", "what are you wearing", None),
    ("are u a virgin", "sexual_talk", "are u a virgin", None),
    ("i'll send your pics to everyone at your school", "threat", "send your pics to everyone", None),
    ("everyone will see them", "threat", "everyone will see", None),
    ("you have 24 hours", "threat", "you have 24 hours", None),
    ("or i post them in ur school group", "threat", "or i post", None),
    ("send me $200 in gift cards", "payment_details", "send me $200", None),
    ("send the google play code", "payment_details", "google play code", None),
    ("drop ur cashtag", "payment_details", "drop ur cashtag", None),
]


@pytest.mark.parametrize(
    ("text", "family", "words", "value"), POSITIVES, ids=[f"{i:02d}-{p[1]}" for i, p in enumerate(POSITIVES)]
)
def test_positive(text: str, family: str, words: str, value: int | None) -> None:
    signals = _detect(text)
    signal = _one(signals, family) if value is None else next(
        (s for s in signals if s.name == family and s.value == value), None
    )
    assert signal is not None, f"{family}={value} not in {[(s.name, s.value) for s in signals]}"
    start, end = signal.span  # type: ignore[misc]
    assert words.lower() in text[start:end].lower(), (text[start:end], words)
    assert signal.event_id == "e1"
    assert signal.pattern_id and signal.pattern_id.split(":")[0] in {"en", "sv", "common"}


# Near misses: the family must NOT fire (or only weakly, below ``max_score``).
NEGATIVES = [
    ("how old is your car?", "age_inquiry", 0.0),
    ("i'm 15 minutes away", "age_disclosure", 0.0),
    ("it's 12 years old, my dad's car", "age_disclosure", 0.0),
    ("i'm 100% sure", "age_disclosure", 0.0),
    ("my son is 12 years old", "age_disclosure", 0.0),
    ("the address of the restaurant?", "personal_info_request", 0.0),
    ("can i get you anything to drink", "compliments_trust", 0.0),
    ("your special order is ready", "compliments_trust", 0.0),
    ("the distance between us is large", "secrecy", 0.0),
    ("do you have signal here? my phone has none", "platform_migration", 0.0),
    ("see you tomorrow at the office", "meeting_request", 0.0),
    ("i'll pay you back tomorrow", "gift_or_money_offer", 0.0),
    ("you want cash or card?", "gift_or_money_offer", 0.0),
    ("get the camera, the kids are dancing", "image_request", 0.0),
    ("send me more information about the course", "image_request", 0.0),
    ("what are you wearing to the wedding?", "sexual_talk", 0.0),
    ("the lights are turned on", "sexual_talk", 0.0),
    ("i'll send the link to your email", "threat", 0.0),
    ("you'll regret not buying this jacket", "threat", 0.6),
    ("they pay me $10 an hour", "payment_details", 0.0),
    ("what's your card number for the booking?", "payment_details", 0.0),
    ("i'll tell your mom you said hi", "threat", 0.6),
    ("we should hang out sometime", "meeting_request", 0.5),
    ("oh snap, i forgot", "platform_migration", 0.4),
    ("my parents are so strict about homework", "isolation", 0.0),
]


@pytest.mark.parametrize(
    ("text", "family", "max_score"), NEGATIVES, ids=[f"{i:02d}-{n[1]}" for i, n in enumerate(NEGATIVES)]
)
def test_near_miss(text: str, family: str, max_score: float) -> None:
    strongest = max((s.score for s in _detect(text) if s.name == family), default=0.0)
    assert strongest <= max_score, f"{family} scored {strongest} on {text!r}"


def test_one_signal_per_family_strongest_wins() -> None:
    signals = _detect("add me on snapchat, my snap is more private")
    migration = [s for s in signals if s.name == "platform_migration"]
    assert len(migration) == 1
    assert migration[0].score == 0.9


def test_several_ages_are_all_reported() -> None:
    values = sorted(s.value for s in _detect("im 13 lol jk, i'm 24") if s.name == "age_disclosure")  # type: ignore[type-var]
    assert values == [13, 24]


def test_same_age_read_twice_is_one_signal() -> None:
    ages = [s for s in _detect("i'm 13, 13/f") if s.name == "age_disclosure"]
    assert [s.value for s in ages] == [13]
    assert ages[0].score == 0.9


def test_swedish_phrases_are_found_in_an_english_conversation() -> None:
    """Mixed chats: the sv pack runs for English conversations too (and vice versa)."""
    signal = _one(_detect("hur gammal är du?", "en"), "age_inquiry")
    assert signal.language == "sv"


def test_common_cues_carry_the_conversation_language() -> None:
    signal = _one(_detect("snapchat?", "en"), "platform_migration")
    assert signal.pattern_id == "common:snapchat"
    assert signal.language == "en"


def test_empty_and_clean_messages() -> None:
    assert _detect("") == []
    assert _detect("the weather is nice today, let's go for a walk in the park") == []


def test_bad_language_argument() -> None:
    with pytest.raises(ValueError, match="language must be a non-empty string"):
        detect_signals(normalize("hi"), "e1", "")


# Paraphrases written apart from the examples above, before the packs were tuned on them
# (first pass: 88 of 103 across both languages); kept as regression cases.
PARAPHRASES = [
    ('so how old are ya', 'age_inquiry'),
    ('wait u in middle school?', 'age_inquiry'),
    ('what year are u in at school', 'age_inquiry'),
    ('how old r you anyway', 'age_inquiry'),
    ('im only 13 tho', 'age_disclosure'),
    ('13 yrs old', 'age_disclosure'),
    ('i just turned 14', 'age_disclosure'),
    ('im in 8th', 'age_disclosure'),
    ('which school do u go to', 'personal_info_request'),
    ('what town do you live in', 'personal_info_request'),
    ('anyone else home with u?', 'personal_info_request'),
    ('when do ur parents get home', 'personal_info_request'),
    ('ur so pretty omg', 'compliments_trust'),
    ('youre different from other girls', 'compliments_trust'),
    ('u seem way older than 13', 'compliments_trust'),
    ('i feel like i can tell u anything and u can trust me', 'compliments_trust'),
    ('keep this between us ok', 'secrecy'),
    ('dont say anything to ur mom', 'secrecy'),
    ('no one can know about us', 'secrecy'),
    ('delete the messages after u read them', 'secrecy'),
    ('ur friends are so immature', 'isolation'),
    ('ur parents dont understand u like i do', 'isolation'),
    ('do u have snapchat', 'platform_migration'),
    ('whats ur insta', 'platform_migration'),
    ('can we talk on kik instead', 'platform_migration'),
    ('hmu on telegram', 'platform_migration'),
    ('we should meet up sometime', 'meeting_request'),
    ('i could come pick u up', 'meeting_request'),
    ('wanna hang out this weekend just us', 'meeting_request'),
    ('can i see you irl', 'meeting_request'),
    ('i can get u a gift card', 'gift_or_money_offer'),
    ('want me to buy u something', 'gift_or_money_offer'),
    ('ill give u 500 robux', 'gift_or_money_offer'),
    ('ill send u money for it', 'gift_or_money_offer'),
    ('can u send a selfie', 'image_request'),
    ('show me what u look like', 'image_request'),
    ('send me a pic in ur bikini', 'image_request'),
    ('send me a pic without ur shirt', 'image_request'),
    ('have u ever done stuff with a guy', 'sexual_talk'),
    ('what r u wearing right now', 'sexual_talk'),
    ('do u like older guys', 'sexual_talk'),
    ('are u still a virgin', 'sexual_talk'),
    ('ill post ur pics everywhere', 'threat'),
    ('if u dont send more ill tell everyone', 'threat'),
    ('ur parents are gonna see everything', 'threat'),
    ('u have 1 hour or else', 'threat'),
    ('send me 100 dollars', 'payment_details'),
    ('pay me or else', 'payment_details'),
    ('buy a steam card and send me the code', 'payment_details'),
    ('i want 200 in bitcoin', 'payment_details'),
    ('just got off work, wife is out', 'adult_indicator'),
    ('i have a daughter about ur age', 'adult_indicator'),
    # second round (first pass: 83 of 104 across both languages)
    ('u look young, whats ur age', 'age_inquiry'),
    ('r u even 18', 'age_inquiry'),
    ('how old are u for real', 'age_inquiry'),
    ('what age r u', 'age_inquiry'),
    ("i'm turning 13 next week", 'age_disclosure'),
    ('im a 7th grader', 'age_disclosure'),
    ('13 here, u?', 'age_disclosure'),
    ('i am twelve', 'age_disclosure'),
    ('where abouts do u live', 'personal_info_request'),
    ('whats ur address so i can send it', 'personal_info_request'),
    ('are ur parents home rn', 'personal_info_request'),
    ('do you have your own room', 'personal_info_request'),
    ('youre honestly so beautiful', 'compliments_trust'),
    ('ur smarter than most adults i know', 'compliments_trust'),
    ('i really care about you', 'compliments_trust'),
    ('youre so grown up', 'compliments_trust'),
    ('this stays between me and u', 'secrecy'),
    ('dont let ur mom see this', 'secrecy'),
    ('make sure u delete everything', 'secrecy'),
    ('its our little secret ok', 'secrecy'),
    ('they dont really care about u', 'isolation'),
    ('forget ur friends, u have me', 'isolation'),
    ('lets switch to snap', 'platform_migration'),
    ("i'll dm u on insta", 'platform_migration'),
    ('got whatsapp?', 'platform_migration'),
    ('message me on telegram instead', 'platform_migration'),
    ('when can i see u', 'meeting_request'),
    ('wanna meet at the park?', 'meeting_request'),
    ("i'll come to ur town", 'meeting_request'),
    ('we could meet after school', 'meeting_request'),
    ("i'll get u new airpods", 'gift_or_money_offer'),
    ('want some vbucks?', 'gift_or_money_offer'),
    ('i can pay u 100 for it', 'gift_or_money_offer'),
    ('ill buy u whatever u want', 'gift_or_money_offer'),
    ('send me a selfie', 'image_request'),
    ('can i see a pic of u', 'image_request'),
    ('show me ur body', 'image_request'),
    ('send a pic in ur underwear', 'image_request'),
    ('have u ever been touched', 'sexual_talk'),
    ('what color is ur bra', 'sexual_talk'),
    ('do u sleep naked', 'sexual_talk'),
    ('have you made out with anyone', 'sexual_talk'),
    ('ill leak everything', 'threat'),
    ('everyone at ur school will see', 'threat'),
    ('do it or i share them', 'threat'),
    ('you have until midnight', 'threat'),
    ('send me 50 on cashapp', 'payment_details'),
    ('pay me 300 or else', 'payment_details'),
    ('i need the gift card code', 'payment_details'),
    ('send bitcoin to this wallet', 'payment_details'),
    ('my ex wife took the kids', 'adult_indicator'),
    ("after work i'll be free", 'adult_indicator'),
]


@pytest.mark.parametrize(("text", "family"), PARAPHRASES, ids=[f"{i:02d}-{p[1]}" for i, p in enumerate(PARAPHRASES)])
def test_paraphrase(text: str, family: str) -> None:
    assert family in {s.name for s in _detect(text)}


# ------------------------------------------------------------------ measured on shared data

DATA = __import__("pathlib").Path(__file__).resolve().parents[1].parent / "shared" / "data"
TACTIC_FAMILY = {"age_deception": "adult_indicator", "love_bombing": "compliments_trust"}


def scenario_tactic_recall(language: str) -> tuple[int, int]:
    """(tactics shown by a matching family, tactics labelled) over one language's scenarios."""
    import json
    from collections import defaultdict

    root = DATA / "scenarios"
    if not (root / "events.jsonl").is_file():
        pytest.skip(f"scenario data not found at {root} (../shared/data)")
    labels = [json.loads(line) for line in (root / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    families: dict[str, set[str]] = defaultdict(set)
    for line in (root / "events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event["type"] == "message":
            for s in detect_signals(normalize(event["text"]), event["event_id"], language):
                families[event["conversation_id"]].add(s.name)
    shown = total = 0
    for label in labels:
        if label["language"] != language:
            continue
        for tactic in label["tactics"]:
            total += 1
            shown += TACTIC_FAMILY.get(tactic, tactic) in families[label["conversation_id"]]
    return shown, total


@pytest.mark.data
def test_scenario_tactics_are_detected_en() -> None:
    shown, total = scenario_tactic_recall("en")
    assert shown / total >= 0.85, f"{shown}/{total}"


@pytest.mark.data
def test_strong_signals_are_rare_in_everyday_dialogue() -> None:
    """DailyDialog (everyday adult talk): signals scoring >= 0.7 in under 0.5% of utterances."""
    path = DATA / "benign" / "dailydialog" / "dialogues_test.txt"
    if not path.is_file():
        pytest.skip(f"DailyDialog not found at {path} (../shared/data)")
    utterances = [u.strip() for line in path.read_text(encoding="utf-8").splitlines() for u in line.split("__eou__") if u.strip()]
    strong = sum(1 for u in utterances if any(s.score >= 0.7 for s in _detect(u)))
    assert strong / len(utterances) < 0.005, f"{strong} of {len(utterances)} utterances"  # counts only, never lines


@pytest.mark.parametrize("text", ["til im 18 i cant", "when i'm 18 we can", "he's a 30 yo guy", "my 12 year old son"])
def test_hypothetical_or_third_person_ages_are_not_claims(text: str) -> None:
    assert [s.value for s in _detect(text) if s.name == "age_disclosure"] == []
