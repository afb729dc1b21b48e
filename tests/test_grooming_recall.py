"""Grooming recall (issue 9): a wide repertoire of mild tactics, and singling a child out of a room.

Chats here are written for these tests (sv and en), short and non-graphic.
"""

import math

import pytest

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


def test_money_and_photo_talk_do_not_widen_the_repertoire(monkeypatch):
    # a grandparent's "swished you 200, send a pic in the new jacket, don't tell mum"
    families = _scores("gift_or_money_offer", "image_request", "secrecy")
    with_breadth = fuse(families, 0.9, 0.8).risk
    monkeypatch.setattr(risk, "BREADTH", 0.0)
    assert fuse(families, 0.9, 0.8).risk == with_breadth


def test_a_repertoire_of_weakly_phrased_tactics_still_widens(monkeypatch):
    # "u could come on my discord sometime", "ur kinda cool", "which area u in": each entry
    # scores 0.4, below the stage-presence line, and three of them toward a child still count
    weak = {family: (0.4, 1) for family in ("compliments_trust", "platform_migration", "personal_info_request")}
    two = {family: (0.4, 1) for family in ("compliments_trust", "platform_migration")}
    three_with, two_with = fuse(weak, 0.5, 0.8).risk, fuse(two, 0.5, 0.8).risk
    monkeypatch.setattr(risk, "BREADTH", 0.0)
    assert fuse(weak, 0.5, 0.8).risk < three_with
    assert fuse(two, 0.5, 0.8).risk == two_with


def test_breadth_between_two_teens_stays_below_alert():
    families = ("compliments_trust", "secrecy", "platform_migration", "personal_info_request", "age_inquiry")
    peer = fuse(_scores(*families), 0.12, 0.88).risk
    adult = fuse(_scores(*families), 0.9, 0.88).risk
    assert peer < 0.6 <= adult


# ---------------------------------------------------------------- a stranger's probe: the age asked

PRESENT = 0.7  # each tactic clearly present (above the stage-presence line)


def test_asking_a_childs_age_while_arranging_to_meet_weighs_as_a_tactic_more(monkeypatch):
    # "how old r u?" ... "meet me at the station" from someone of unknown age to a child
    families = {"age_inquiry": (0.9, 1), "meeting_request": (0.8, 1)}
    probe = fuse(families, 0.5, 0.8).risk
    monkeypatch.setattr(risk, "PROBE", 0.0)
    unprobed = fuse(families, 0.5, 0.8).risk
    assert math.log(probe / (1 - probe)) - math.log(unprobed / (1 - unprobed)) == pytest.approx(1.0)
    assert probe > 0.5 > unprobed


def _probe_cases() -> dict[str, float]:
    alone = {"age_inquiry": (0.9, 1)}
    with_tactic = {"age_inquiry": (0.9, 1), "secrecy": (PRESENT, 1)}
    return {
        "alone, to a child": fuse(alone, 0.5, 0.8).risk,
        "with a tactic, to an adult": fuse(with_tactic, 0.5, 0.1).risk,
        "with a tactic, by a teen": fuse(with_tactic, 0.12, 0.8).risk,
        "with a tactic, to a child": fuse(with_tactic, 0.5, 0.8).risk,
        "with a tactic, to a room": fuse(with_tactic, 0.5, 0.8, group=True).risk,
        "with a tactic, to someone of unknown age": fuse(with_tactic, 0.5, 0.5).risk,
    }


def test_the_age_question_counts_only_beside_another_tactic_toward_a_minor(monkeypatch):
    # "asl?" in a room, "how old are you" alone, a teen asking a teen, strangers getting to know
    # each other: small talk
    before = _probe_cases()
    monkeypatch.setattr(risk, "PROBE", 0.0)
    after = _probe_cases()
    changed = {case for case in before if before[case] != after[case]}
    assert changed == {"with a tactic, to a child"}


def test_a_family_link_takes_the_probe_away(monkeypatch):
    # a grandparent asking "how old are you turning?" about the party they are arranging
    families = {"age_inquiry": (0.9, 1), "meeting_request": (0.8, 1)}
    family = risk.Context(family=1.0)
    linked, stranger = fuse(families, 0.5, 0.8, context=family).risk, fuse(families, 0.5, 0.8).risk
    monkeypatch.setattr(risk, "PROBE", 0.0)
    assert fuse(families, 0.5, 0.8, context=family).risk == linked
    assert fuse(families, 0.5, 0.8).risk < stranger


# ---------------------------------------------------------------- vocabulary: singling out

from trygg.signals.detect import detect_signals  # noqa: E402
from trygg.text.normalize import normalize  # noqa: E402

# (text, language, family): each behaviour in words written for this test
SINGLING_OUT = [
    ("text me in private later, ok?", "en", "platform_migration"),
    ("join my private voice chat after school", "en", "platform_migration"),
    ("i'll send u the invite privately", "en", "platform_migration"),
    ("dont mention it to the rest of the group", "en", "secrecy"),
    ("no need to bother your mum with this", "en", "secrecy"),
    ("just u this time, not the others", "en", "isolation"),
    ("you don't have to bring your friends", "en", "isolation"),
    ("ive got a special surprise for u", "en", "gift_or_money_offer"),
    ("let me make you a mod on the server", "en", "gift_or_money_offer"),
    ("wanna free battle pass?", "en", "gift_or_money_offer"),
    ("what time does ur dad get home", "en", "personal_info_request"),
    ("pm me your address", "en", "personal_info_request"),
    ("what years are you guys in", "en", "age_inquiry"),
    ("ur the youngest in this clan lol", "en", "age_inquiry"),
    ("snacka enskilt med mig ikväll", "sv", "platform_migration"),
    ("jag skickar länken i dm", "sv", "platform_migration"),
    ("visa inte det här för resten av gruppen", "sv", "secrecy"),
    ("dina föräldrar behöver inte veta", "sv", "secrecy"),
    ("din bror behöver inte följa med", "sv", "isolation"),
    ("cykla hit själv på lördag", "sv", "isolation"),
    ("vill du ha ett presentkort?", "sv", "gift_or_money_offer"),
    ("du får 300 robux", "sv", "gift_or_money_offer"),
    ("jag delar ut nitro till de aktiva", "sv", "gift_or_money_offer"),
    ("ni går väl på mellanstadiet", "sv", "age_inquiry"),
    # parents away, cover stories, turning the child against them
    ("so when do your parents go to work", "en", "personal_info_request"),
    ("if ur mum asks about it just say it was a mate", "en", "secrecy"),
    ("i get you way better than your friends do", "en", "isolation"),
    ("skriv när ingen vuxen är hemma", "sv", "isolation"),
    ("det är bättre om ingen får veta", "sv", "secrecy"),
    ("om din syster undrar vem jag är så säg att jag är från laget", "sv", "secrecy"),
    ("jag förstår dig mer än dina föräldrar gör", "sv", "isolation"),
]


def _families(text, language):
    return {s.name: s.score for s in detect_signals(normalize(text), "t1", language)}


@pytest.mark.parametrize("text,language,family", SINGLING_OUT)
def test_singling_out_vocabulary(text, language, family):
    assert _families(text, language).get(family, 0.0) >= 0.5, _families(text, language)


@pytest.mark.parametrize("text,language,family", [
    ("you can come alone or with your partner, up to you", "en", "isolation"),
    ("pappa gav dig fickpengar igår", "sv", "gift_or_money_offer"),
])
def test_look_alikes_are_not_singling_out(text, language, family):
    assert family not in _families(text, language)


@pytest.mark.parametrize("text,language", [
    ("du går i sjuan va?", "sv"),
    ("ni går i åttan eller?", "sv"),
    ("you're in 7th grade right?", "en"),
])
def test_the_others_school_year_is_not_the_speakers_age(text, language):
    families = _families(text, language)
    assert "age_disclosure" not in families
    assert families.get("age_inquiry", 0.0) >= 0.5


# ---------------------------------------------------------------- a bare number answering an age question

from trygg.engine import Engine  # noqa: E402
from trygg.events import parse_event  # noqa: E402


def _chat(name, lines, group=False):
    engine = Engine()
    speakers = sorted({speaker for speaker, _ in lines})
    for n, (speaker, text) in enumerate(lines, 1):
        others = [s for s in speakers if s != speaker]
        event = {
            "type": "message", "event_id": f"{name}-{n}", "conversation_id": name,
            "sender_id": f"{name}:{speaker}", "recipient_id": None if group else f"{name}:{others[0]}", "text": text,
        }
        engine.process(parse_event(event))
    return engine


@pytest.mark.parametrize("question,answer,age", [
    ("how old r u btw", "like 12", 12),
    ("hur gammal e du?", "11 varför", 11),
    ("whats ur age", "13 u?", 13),
])
def test_a_bare_number_after_an_age_question_is_a_stated_age(question, answer, age):
    asked = _chat("ans", [("a", "hey"), ("b", "hi"), ("a", question), ("b", answer)]).ages.peek("ans:b")
    unasked = _chat("un", [("a", "hey"), ("b", "hi"), ("a", "what time is practice"), ("b", answer)]).ages.peek("un:b")
    assert asked is not None and asked.likely_minor
    assert asked.best_age_estimate == age
    # the same reply without the question is at most the packs' weaker bare-number guess
    assert unasked is None or not unasked.stated_ages or asked.stated_ages[-1][2] > unasked.stated_ages[-1][2]


def test_an_answer_long_after_the_question_counts_as_a_bare_number():
    lines = [("a", "how old are you"), ("b", "why"), ("a", "ok"), ("b", "ok"), ("a", "what time do you finish"), ("b", "hmm")]
    late = _chat("late", lines + [("b", "14")]).ages.peek("late:b")
    soon = _chat("soon", lines[:2] + [("b", "14")]).ages.peek("soon:b")
    assert soon.stated_ages[-1][2] > (late.stated_ages[-1][2] if late is not None and late.stated_ages else 0.0)


# ---------------------------------------------------------------- implied age of the child

@pytest.mark.parametrize("text,language", [
    ("i gotta ask my dad first", "en"),
    ("mom took my ipad again", "en"),
    ("we had a substitute today and it was chaos", "en"),
    ("when i grow up i wanna be a vet", "en"),
    ("jag måste fråga min pappa först", "sv"),
    ("morsan låser mobilen efter nio", "sv"),
    ("vi hade vikarie hela dagen", "sv"),
    ("jag ska plugga på glosorna", "sv"),
    # moving between school stages now, and the phone taken by a parent
    ("efter sommaren börjar jag högstadiet", "sv"),
    ("farsan tar mobilen när klockan är nio", "sv"),
    ("i'm going into secondary in august", "en"),
    ("it's my first week at the big school", "en"),
    ("cant text after 8, mam takes the phone", "en"),
])
def test_a_childs_everyday_life_implies_a_minor(text, language):
    signals = [s for s in detect_signals(normalize(text), "t1", language) if s.name == "implied_age"]
    assert signals and all(int(s.value) < 18 for s in signals), signals


@pytest.mark.parametrize("text,language", [
    ("when i was in primary we walked to school", "en"),
    ("did you finish the report for the board", "en"),
    ("vi har utvecklingssamtal om vår son imorgon", "sv"),
    ("min son har en ny mentor i år", "sv"),
    ("när jag började högstadiet fanns inga mobiler", "sv"),
    ("when i started high school we had no phones", "en"),
    ("my first year at uni was a blur", "en"),
    ("my daughter starts secondary next week", "en"),
])
def test_adult_talk_about_school_is_not_a_childs_life(text, language):
    assert not [s for s in detect_signals(normalize(text), "t1", language) if s.name == "implied_age"]


@pytest.mark.parametrize("text,language", [
    ("min dotter går i sexan", "sv"),
    ("min son slutar nian i vår", "sv"),
    ("lillebror börjar femman", "sv"),
    ("meine Tochter geht in die 6. Klasse", "de"),
    ("mijn dochter zit in groep 7", "nl"),
    ("mijn zoon zit in de brugklas", "nl"),
    ("my kid is in middle school now", "en"),
])
def test_a_parent_naming_a_childs_grade_states_no_age_of_their_own(text, language):
    assert not [s for s in detect_signals(normalize(text), "t1", language) if s.name in ("age_disclosure", "implied_age")]


@pytest.mark.parametrize("text,age", [("vi slutar sexan nu", 12), ("jag går ut nian i juni", 15)])
def test_finishing_a_grade_states_it(text, age):
    found = [s for s in detect_signals(normalize(text), "t1", "sv") if s.name == "age_disclosure"]
    assert found and int(found[0].value) == age


# ---------------------------------------------------------------- the child's wariness

@pytest.mark.parametrize("text,language", [
    ("wait who is this", "en"),
    ("how did u find my school", "en"),
    ("ur like an adult tho", "en"),
    ("pls stop texting me", "en"),
    ("vem e detta", "sv"),
    ("hur visste du när jag slutar", "sv"),
    ("du e ju typ 40", "sv"),
    ("sluta messa mig", "sv"),
])
def test_wary_replies(text, language):
    assert _families(text, language).get("wary", 0.0) >= 0.5


def _risk(lines):
    engine = _chat("w", lines)
    return max(p["risk"] for uid, p in engine.conversations["w"].participants.items() if uid == "w:a")


def test_wariness_raises_the_risk_of_a_candidate_with_tactics_only():
    approach = [("a", "hej, du är så himla fin"), ("b", "va?"), ("a", "ska vi ses efter skolan? säg inget till mamma")]
    assert _risk(approach + [("b", "vem e detta")]) > _risk(approach + [("b", "okej")])
    plain = [("a", "hej, vad gör du"), ("b", "vem e detta")]
    assert _risk(plain) == _risk([("a", "hej, vad gör du"), ("b", "okej")])


# ---------------------------------------------------------------- singling a child out of a room

ROOM = [
    ("m", "hi everyone, welcome to the build server"),
    ("k1", "hii"),
    ("k2", "im 11 lol"),
    ("m", "what years are you guys in"),
    ("k1", "year 6"),
    ("m", "k2 ur the best builder here, i'll make u a mod"),
    ("m", "k2 text me in private later, dont mention it to the rest of the group"),
    ("m", "just u this time, not the others. no need to bother your mum with it"),
]


def test_an_adult_who_draws_one_child_out_of_a_room_is_flagged(monkeypatch):
    engine = _chat("room", ROOM, group=True)
    summary = engine.summary("room")
    assert summary["flagged"], summary
    assert summary["offender_id"] == "room:m"
    singled = engine.conversations["room"].participants["room:m"]["risk"]
    # without the singling-out rule the room's discount would still apply to the same words
    from trygg.conversation import state
    monkeypatch.setattr(state, "SINGLING_FAMILIES", ())
    crowd = _chat("room", ROOM, group=True).conversations["room"].participants["room:m"]["risk"]
    assert singled > crowd


def test_a_room_where_an_adult_talks_to_everyone_is_not_flagged():
    lines = [
        ("m", "hi everyone, welcome to the build server"),
        ("k1", "hii"),
        ("k2", "im 11 lol"),
        ("m", "what years are you guys in"),
        ("k1", "year 6"),
        ("m", "great builds today all of you, the contest is on saturday"),
        ("m", "check the rules channel and ask your parents before joining voice"),
    ]
    engine = _chat("room2", lines, group=True)
    assert not engine.summary("room2")["flagged"]


# ---------------------------------------------------------------- exposure as the alternative

@pytest.mark.parametrize("lines", [
    [("a", "remember the pic from friday"), ("b", "why"),
     ("a", "send two more or the pics go online"), ("a", "you have till 8 tonight")],
    [("a", "du minns bilden från i fredags va"), ("b", "varför"),
     ("a", "swisha 400, annars får hela skolan se bilden"), ("a", "du har tills ikväll")],
])
def test_exposure_with_a_demand_and_a_deadline_is_sextortion(lines):
    engine = _chat("x", lines)
    summary = engine.summary("x")
    assert summary["flagged"] and summary["label_guess"] == "sextortion", summary


def test_money_for_a_picture_is_an_explicit_offer():
    assert _families("jag swishar 200 för en bild", "sv").get("gift_or_money_offer", 0.0) >= 0.9


# ---------------------------------------------------------------- a stranger's opener

@pytest.mark.parametrize("text,language", [
    ("saw ur reply on ur dance vid, ur so good", "en"),
    ("hey its jaxx from the lobby", "en"),
    ("you dont know me but i love ur builds", "en"),
    ("hej det är mikael från fortnite-lobbyn igår", "sv"),
    ("såg din video, du e grym", "sv"),
    ("du känner inte mig men", "sv"),
    ("hab dein video gesehen, richtig gut", "de"),
    ("ik zag je filmpje, echt goed", "nl"),
])
def test_a_stranger_says_how_they_found_the_child(text, language):
    assert _families(text, language).get("first_contact", 0.0) >= 0.5


@pytest.mark.parametrize("text,language", [
    ("saw your ad, is the bike still available", "en"),
    ("hi love its grandma, saw your mum today", "en"),
    ("såg din annons, finns cykeln kvar?", "sv"),
    ("vi ses på träningen ikväll", "sv"),
])
def test_a_sale_or_family_is_no_strangers_opener(text, language):
    assert "first_contact" not in _families(text, language)


def _candidate_risk(name, opener):
    lines = [("a", opener), ("b", "haha tack"), ("a", "du e så himla fin. säg inget till nån om oss"), ("b", "ok")]
    return max(p["risk"] for uid, p in _chat(name, lines).conversations[name].participants.items() if uid == f"{name}:a")


def test_a_strangers_opener_raises_the_risk_of_their_tactics_and_alone_it_is_nothing():
    assert _candidate_risk("st", "såg din video, du e grym") > _candidate_risk("pl", "hej, du e grym")
    alone = _chat("al", [("a", "såg din video, du e grym"), ("b", "tack!")]).conversations["al"].risk
    plain = _chat("pa", [("a", "hej, du e grym"), ("b", "tack!")]).conversations["pa"].risk
    assert alone == pytest.approx(plain)


def test_a_teens_opener_adds_nothing():
    teen = risk.fuse({"secrecy": (0.7, 1), "compliments_trust": (0.7, 1)}, 0.1, 0.9, context=risk.Context(stranger=0.6))
    plain = risk.fuse({"secrecy": (0.7, 1), "compliments_trust": (0.7, 1)}, 0.1, 0.9)
    assert teen.risk == pytest.approx(plain.risk)
    adult = risk.fuse({"secrecy": (0.7, 1), "compliments_trust": (0.7, 1)}, 0.5, 0.9, context=risk.Context(stranger=0.6))
    assert adult.risk > risk.fuse({"secrecy": (0.7, 1), "compliments_trust": (0.7, 1)}, 0.5, 0.9).risk
    assert ("first_contact", pytest.approx(0.6)) in [(f, round(t, 4)) for f, t in adult.contributions]
