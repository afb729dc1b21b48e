"""Issue 9: detection that generalises, on chats written for these tests (sv and en).

Each behaviour (sextortion, solicitation, grooming of a child whose age is only implied, an
adult whose declared age is true) and each false-alarm kind (a parent or grandparent sending
money and asking for a photo, a teenager retelling a stranger's offer to a friend who urges
her to block and report, a seller's deadline) is written twice per language, in different
words, so a rule fitted to one wording fails the other. Nothing here is taken from the shared
scenarios.
"""

import pytest

from trygg.engine import Engine
from trygg.events import parse_event

SEVERE = {"warn_recipient", "restrict_sender", "hold_for_review", "block", "report"}

# name: (label, declared ages by speaker, lines); speaker "a" is the offender in harmful chats.
HARMFUL = {
    "sext_en_1": ("sextortion", {"b": 14}, [
        ("a", "remember the photo you sent me last week?"),
        ("b", "why"),
        ("a", "pay me 80 dollars on cashapp or the whole class group chat gets it"),
        ("b", "please no"),
        ("a", "you've got until 9 tonight. i'll also send it to your mom and all your followers"),
    ]),
    "sext_en_2": ("sextortion", {}, [
        ("a", "i saved everything you sent me"),
        ("a", "send 3 more pics, worse ones, or i post the ones i have on your insta"),
        ("b", "i don't want to live anymore"),
        ("a", "clock's ticking, 30 minutes"),
    ]),
    "sext_en_3": ("sextortion", {"b": 15}, [
        ("a", "got your 50. now another 100 or your dad sees the video"),
        ("b", "i paid already, please stop"),
        ("a", "you have one hour"),
    ]),
    "sext_en_4": ("sextortion", {"b": 15}, [
        ("a", "so i recorded our facetime lol"),
        ("b", "what?? delete it"),
        ("a", "$200 in steam cards by tomorrow morning or every one of your followers gets the clip"),
    ]),
    "sext_en_5": ("sextortion", {}, [
        ("a", "u sent me those pics remember. if u dont send me 150 on paypal ur parents and ur school will see them"),
        ("b", "im begging you dont"),
    ]),
    "sext_sv_1": ("sextortion", {"b": 14}, [
        ("a", "kommer du ihåg bilden du skickade?"),
        ("b", "varför"),
        ("a", "swisha 500 kr annars hamnar den i klassens gruppchatt"),
        ("b", "snälla gör inte det"),
        ("a", "du har till ikväll kl 21. sen får din mamma och alla dina följare se den"),
    ]),
    "sext_sv_2": ("sextortion", {}, [
        ("a", "jag har sparat allt du skickat"),
        ("a", "skicka tre till, annars lägger jag ut dom på ditt insta"),
        ("b", "jag vill inte leva längre"),
        ("a", "klockan tickar, en halvtimme"),
    ]),
    "sext_sv_3": ("sextortion", {"b": 15}, [
        ("a", "tack för 300. nu vill jag ha 500 till, annars får din pappa se filmen"),
        ("b", "jag har ju redan betalat, snälla sluta"),
        ("a", "du har en timme på dig"),
    ]),
    "sext_sv_4": ("sextortion", {"b": 15}, [
        ("a", "jag spelade in vårt videosamtal"),
        ("b", "va?? ta bort det"),
        ("a", "swisha 800 före imorgon kl 12 annars får hela din skola filmen"),
    ]),
    "sext_sv_5": ("sextortion", {}, [
        ("a", "om du inte skickar 1000 kr på swish så ser dina föräldrar och din klass bilderna"),
        ("b", "snälla nej jag ber dig"),
    ]),
    "solic_en_1": ("solicitation", {"b": 15}, [
        ("a", "hey beautiful, i'm a generous guy, a sugar daddy if you like"),
        ("b", "im only 15"),
        ("a", "thats fine. i can send you 50 every week, or amazon gift cards, for some more private pictures"),
        ("a", "whats your cashapp?"),
    ]),
    "solic_en_2": ("solicitation", {"b": 13}, [
        ("a", "want 2000 robux? all you need to do is show me a pic in your underwear"),
    ]),
    "solic_en_3": ("solicitation", {"b": 14}, [
        ("a", "i could pay for your phone bill every month if you send me some sexy selfies"),
    ]),
    "solic_sv_1": ("solicitation", {"b": 15}, [
        ("a", "hej snygging, jag är en generös man, typ sugardaddy"),
        ("b", "jag är bara 15"),
        ("a", "det gör inget. jag kan swisha dig 400 i veckan eller ge presentkort för lite mer privata bilder"),
        ("a", "vad har du för swishnummer?"),
    ]),
    "solic_sv_2": ("solicitation", {"b": 13}, [
        ("a", "vill du ha 2000 robux? du behöver bara skicka en bild i underkläder"),
    ]),
    "solic_sv_3": ("solicitation", {"b": 14}, [
        ("a", "jag kan betala din mobilräkning varje månad om du skickar några sexiga selfies"),
    ]),
    "implied_en_1": ("grooming", {}, [
        ("b", "hiii i just got my first tablet for my birthday"),
        ("a", "nice! i can get you robux if you want"),
        ("b", "omg yes!! but i have to be in bed at 9, my mom's rules"),
        ("a", "haha ok. are you alone after school?"),
        ("b", "yeah till 5, i take the bus home from middle school"),
        ("a", "lets chat on discord instead, its better there. we could meet at your bus stop, just us"),
    ]),
    "implied_en_2": ("grooming", {}, [
        ("b", "i cant talk long my dad takes my phone at 8"),
        ("a", "thats so strict. ill send you a gift card so you can buy skins"),
        ("b", "omg thank u!! i have soccer practice after school tho"),
        ("a", "is anyone home when you get back? dont tell your dad about me ok"),
        ("a", "add me on snap, we can meet after practice, just me and you"),
    ]),
    "implied_sv_1": ("grooming", {}, [
        ("b", "hejj jag fick min första ipad i julklapp"),
        ("a", "vad kul! jag kan fixa robux till dig"),
        ("b", "jaaa men jag måste sova kl 21, mamma bestämmer"),
        ("a", "haha ok. är du ensam efter skolan?"),
        ("b", "ja tills fem, jag tar bussen hem från mellanstadiet"),
        ("a", "vi kan snacka på discord istället. vi kan ses vid din busshållplats, bara vi två"),
    ]),
    "implied_sv_2": ("grooming", {}, [
        ("b", "kan inte prata länge pappa tar min mobil kl 20"),
        ("a", "vad strängt. jag skickar ett presentkort så du kan köpa skins"),
        ("b", "tack!! jag har fotbollsträning efter skolan"),
        ("a", "är nån hemma när du kommer hem? säg inget till pappa om mig"),
        ("a", "lägg till mig på snap, vi kan ses efter träningen, bara du och jag"),
    ]),
    "adult_en": ("grooming", {"a": 34, "b": 14}, [
        ("b", "nobody at school talks to me"),
        ("a", "i get you. you're more mature than the kids in your class"),
        ("b", "thanks. you're the only one i can talk to"),
        ("a", "i'll pick you up in my car on saturday, just the two of us"),
        ("a", "tell your mom you're sleeping at a friend's"),
        ("b", "ok i'll say i'm at lisa's"),
    ]),
    "adult_sv": ("grooming", {"a": 34, "b": 14}, [
        ("b", "ingen i skolan pratar med mig"),
        ("a", "jag förstår dig. du är mognare än dom andra i klassen"),
        ("b", "tack. du är den enda jag kan prata med"),
        ("a", "jag hämtar dig med bilen på lördag, bara du och jag"),
        ("a", "säg till mamma att du sover hos en kompis"),
        ("b", "okej jag säger att jag är hos lisa"),
    ]),
}

BENIGN = {
    "gran_en_1": ({"a": 71, "b": 12}, [
        ("a", "hi sweetheart, grandma just sent you 200 on venmo for your birthday"),
        ("b", "thank you grandma!!"),
        ("a", "send me a picture of you in the new clothes when you've bought them"),
        ("a", "and don't tell mum it was extra, it's our little secret ;) love you"),
    ]),
    "gran_en_2": ({}, [
        ("a", "happy birthday sweetie! grandpa put 50 on your cashapp"),
        ("b", "thank you grandpa!! love you"),
        ("a", "send us a picture with your cake! dont tell your sister you got more than her"),
    ]),
    "mom_en": ({"a": 44, "b": 14}, [
        ("a", "i sent you 300 for the trip, love mom"),
        ("a", "take a pic in the new jacket so i can see it fits"),
        ("a", "don't tell your brother i gave you extra"),
    ]),
    "gran_sv_1": ({"a": 71, "b": 12}, [
        ("a", "hej gumman, mormor har swishat 200 kr till dig på födelsedagen"),
        ("b", "tack mormor!!"),
        ("a", "skicka en bild på dig i de nya kläderna när du har köpt dem"),
        ("a", "och säg inget till mamma om att det var extra, det är vår lilla hemlighet. kram"),
    ]),
    "gran_sv_2": ({}, [
        ("a", "grattis på födelsedagen gumman! morfar har swishat 300"),
        ("b", "tack morfar!! älskar dig"),
        ("a", "skicka en bild med tårtan! säg inget till din syster att du fick mer"),
    ]),
    "mom_sv": ({"a": 44, "b": 14}, [
        ("a", "jag swishade dig 300 till resan /mamma"),
        ("a", "ta en bild i nya jackan så jag ser att den passar"),
        ("a", "säg inget till din bror att du fick extra"),
    ]),
    "friend_en_1": ({"a": 14, "b": 14}, [
        ("a", "omg some random guy on insta said he'd give me 100 dollars for pics"),
        ("b", "ew thats so creepy. screenshot it, block him and report the account"),
        ("b", "and tell your mom or call childline"),
        ("a", "yeah ok i'll tell my mom"),
    ]),
    "friend_en_2": ({"a": 15, "b": 15}, [
        ("a", "this guy keeps messaging me saying he'll pay me if i send him nudes"),
        ("b", "omg dont send him anything. block him and tell a trusted adult"),
    ]),
    "friend_sv_1": ({"a": 14, "b": 14}, [
        ("a", "en okänd kille på insta skrev att han ger mig 500 kr för bilder"),
        ("b", "usch så äckligt. ta en skärmdump, blockera honom och anmäl kontot"),
        ("b", "och berätta för din mamma eller ring bris"),
        ("a", "okej jag berättar för mamma"),
    ]),
    "friend_sv_2": ({}, [
        ("a", "en snubbe erbjöd mig robux om jag skickade nakenbilder"),
        ("b", "skicka INGET. screenshotta, blocka honom och säg till en vuxen"),
    ]),
    "seller_en": ({}, [
        ("a", "the bike is yours if you send 200 by tonight, otherwise i sell it to the other buyer"),
        ("b", "ok sending now"),
    ]),
    "seller_sv": ({}, [
        ("a", "cykeln är din om du swishar 200 innan ikväll, annars säljer jag den till nån annan"),
        ("b", "okej swishar nu"),
    ]),
}


def run_chat(name, ages, lines, engine=None):
    engine = engine or Engine()
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
def test_harmful_chat_is_flagged_with_the_offender(name):
    label, ages, lines = HARMFUL[name]
    engine, decisions = run_chat(name, ages, lines)
    summary = engine.summary(name)
    assert summary["flagged"], summary
    assert summary["offender_id"] == f"{name}:a"
    assert summary["label_guess"] == label
    if label != "grooming":
        # Extortion and solicitation alert within two messages of the offender's first one.
        first_offender = next(i for i, (speaker, _) in enumerate(lines) if speaker == "a")
        alerted = next(i for i, d in enumerate(decisions) if SEVERE & set(d.actions))
        assert alerted - first_offender <= 2


@pytest.mark.parametrize("name", sorted(n for n, (label, *_) in HARMFUL.items() if label != "grooming"))
def test_sextortion_and_solicitation_reach_report_without_trust_building(name):
    _, ages, lines = HARMFUL[name]
    engine, decisions = run_chat(name, ages, lines)
    reported = [d for d in decisions if "report" in d.actions]
    assert reported, [d.actions for d in decisions]
    assert any(r["signal"].endswith("_pattern") for r in reported[0].reasons)


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_hard_negative_is_not_flagged_and_nobody_is_named(name):
    ages, lines = BENIGN[name]
    engine, decisions = run_chat(name, ages, lines)
    summary = engine.summary(name)
    assert not summary["flagged"], summary
    assert summary["offender_id"] is None
    assert not any(SEVERE & set(d.actions) for d in decisions)


def test_sextortion_of_a_known_adult_gets_no_severe_floor():
    _, _, lines = HARMFUL["sext_en_3"]
    engine, decisions = run_chat("adult-target", {"b": 35}, lines)
    assert not any("report" in d.actions for d in decisions)


def test_solicitation_needs_a_minor_target():
    _, _, lines = HARMFUL["solic_en_2"]
    _, unknown = run_chat("unknown-target", {}, lines)
    _, minor = run_chat("minor-target", {"b": 13}, lines)
    assert not any("report" in d.actions for d in unknown)
    assert any("report" in d.actions for d in minor)


def test_implied_age_makes_the_child_a_likely_minor_with_evidence():
    engine, _ = run_chat("implied_en_1", {}, HARMFUL["implied_en_1"][2])
    child = engine.ages["implied_en_1:b"]
    assert child.likely_minor
    assert child.p_minor < 1 - 0.12  # weaker than a clear "I'm 11"
    reason = child.as_reason()
    assert len(reason["implied_ages"]) == 3
    assert all(event_id.startswith("implied_en_1-") for _, event_id in reason["implied_ages"])


def relationship(name, kind, ended=False):
    return parse_event({
        "type": "relationship", "event_id": f"{name}-rel-{kind}-{ended}", "user_id": f"{name}:a",
        "other_id": f"{name}:b", "relationship": kind, "ended": ended,
    })


MONEY_PHOTO_SECRET = [
    ("a", "i sent you 200, buy yourself something nice"),
    ("a", "send me a pic of you when you're wearing it"),
    ("a", "keep it between us, your brother doesn't need to know"),
]


def test_a_known_family_link_lowers_ordinary_cues():
    alone, _ = run_chat("fam", {"a": 45, "b": 13}, MONEY_PHOTO_SECRET)
    linked = Engine()
    linked.process(relationship("fam", "family_pairing"))
    linked, _ = run_chat("fam", {"a": 45, "b": 13}, MONEY_PHOTO_SECRET, engine=linked)
    assert linked.summary("fam")["risk"] < alone.summary("fam")["risk"] - 0.2
    assert not linked.summary("fam")["flagged"]


@pytest.mark.parametrize("name", ["sext_en_1", "solic_sv_1"])
def test_a_family_link_never_hides_sextortion_or_solicitation(name):
    label, ages, lines = HARMFUL[name]
    engine = Engine()
    engine.process(relationship(name, "parent"))
    engine, decisions = run_chat(name, ages, lines, engine=engine)
    assert engine.summary(name)["label_guess"] == label
    assert any("report" in d.actions for d in decisions)


def test_a_coach_link_does_not_lower_grooming():
    _, ages, lines = HARMFUL["adult_en"]
    engine = Engine()
    engine.process(relationship("adult_en", "coach"))
    engine, _ = run_chat("adult_en", ages, lines, engine=engine)
    assert engine.summary("adult_en")["flagged"]


def test_an_ended_link_stops_lowering():
    engine = Engine()
    engine.process(relationship("fam", "parent"))
    engine.process(relationship("fam", "parent", ended=True))
    assert engine.relations.familiarity("fam:a", "fam:b") == 0.0


def test_relationships_are_stored_with_the_users_and_restored():
    engine = Engine()
    engine.process(relationship("fam", "guardian"))
    assert engine.drain_dirty()[1] == {"fam:a", "fam:b"}
    dumped = {uid: engine.dump_user(uid) for uid in ("fam:a", "fam:b")}
    assert dumped["fam:a"]["relationships"] == {"fam:b": ["guardian"]}
    fresh = Engine()
    fresh.load_user("fam:a", dumped["fam:a"])
    assert fresh.relations.familiarity("fam:b", "fam:a") == 1.0


def connection(name, user, other, state="accepted"):
    return parse_event({
        "type": "connection", "event_id": f"{name}-con-{user}-{other}-{state}", "user_id": f"{name}:{user}",
        "other_id": f"{name}:{other}", "state": state,
    })


MILD_APPROACH = [("a", "du e så himla fin"), ("b", "tack"), ("a", "säg inget till nån om oss")]


def _risk_of_a(engine, name):
    return engine.conversations[name].participants[f"{name}:a"]["risk"]


def test_a_message_from_outside_the_childs_contacts_weighs_as_a_strangers():
    connected = Engine()
    connected.process(connection("con", "a", "b"))
    connected, _ = run_chat("con", {"b": 13}, MILD_APPROACH, engine=connected)
    outside = Engine()
    outside.process(connection("con", "b", "friend"))  # the platform sends b's contacts; a is not one
    outside, _ = run_chat("con", {"b": 13}, MILD_APPROACH, engine=outside)
    silent, _ = run_chat("con", {"b": 13}, MILD_APPROACH)  # a platform that sends no connections
    assert outside.relations.stranger("con:a", "con:b") and not connected.relations.stranger("con:a", "con:b")
    assert not silent.relations.stranger("con:a", "con:b")
    assert _risk_of_a(outside, "con") > _risk_of_a(connected, "con")
    assert _risk_of_a(silent, "con") == pytest.approx(_risk_of_a(connected, "con"))


def test_a_known_link_or_a_removed_connection_decides_who_is_a_stranger():
    engine = Engine()
    engine.process(connection("rm", "b", "friend"))
    engine.process(connection("rm", "a", "b"))
    assert not engine.relations.stranger("rm:a", "rm:b")
    engine.process(connection("rm", "a", "b", state="removed"))
    assert engine.relations.stranger("rm:a", "rm:b")
    engine.process(relationship("rm", "mutual_friends"))
    assert not engine.relations.stranger("rm:a", "rm:b")


def test_the_platform_age_estimate_is_an_input():
    engine = Engine()
    engine.process(parse_event({"type": "account", "user_id": "u1", "estimated_age": 12}))
    assert engine.ages["u1"].likely_minor
    engine.process(parse_event({"type": "account", "user_id": "u2", "declared_age": 19, "estimated_age": 12}))
    assert engine.ages["u2"].likely_adult  # a declared age outranks an estimate ...
    assert engine.ages["u2"].to_dict()["estimated_age"] == 12  # ... which is kept as evidence


def test_relationship_events_are_validated_with_the_field_named():
    from trygg.events import read_lines

    lines = [
        '{"type":"relationship","event_id":"r1","user_id":"p","other_id":"k","relationship":"parent"}',
        '{"type":"relationship","event_id":"r2","user_id":"p","other_id":"k","relationship":"boss"}',
        '{"type":"relationship","event_id":"r3","user_id":"p","other_id":"p","relationship":"family"}',
    ]
    parsed = list(read_lines(lines))
    assert parsed[0].event is not None and parsed[0].event.relationship == "parent"
    assert parsed[1].error is not None and parsed[1].error.field == "relationship"
    assert parsed[2].error is not None and "two different users" in parsed[2].error.message


@pytest.mark.parametrize(
    "text, language",
    [
        ("don't tell your mom about us", "en"),
        ("you can't tell your parents", "en"),
        ("tell your mom you're at a friend's", "en"),
        ("if you block me everyone sees it", "en"),
        ("säg inget till din mamma", "sv"),
        ("berätta inte för din pappa", "sv"),
        ("säg till mamma att du sover hos en kompis", "sv"),
    ],
)
def test_an_offenders_instructions_are_not_protective_talk(text, language):
    from trygg.signals import detect_signals
    from trygg.text.normalize import normalize

    assert "protective" not in {s.name for s in detect_signals(normalize(text), "e", language)}


def test_severe_patterns_are_conjunctions():
    from trygg.conversation.severe import severe_pattern

    threat, demand, deadline = ("threat", (0.85, 1)), ("payment_details", (0.6, 1)), ("deadline", (0.7, 1))
    weak_threat = ("threat", (0.65, 1))
    assert severe_pattern(dict([threat, demand]), 0.5) == "sextortion"  # unknown age is enough
    assert severe_pattern(dict([threat]), 0.9) is None  # a threat alone is not extortion yet
    assert severe_pattern(dict([demand, deadline]), 0.9) is None  # a seller's deadline
    assert severe_pattern(dict([weak_threat, demand]), 0.9) is None
    assert severe_pattern(dict([weak_threat, demand, deadline]), 0.9) == "sextortion"
    assert severe_pattern(dict([weak_threat, demand]), 0.9, distress=0.95) == "sextortion"
    assert severe_pattern(dict([threat, demand]), 0.2) is None  # a known adult
    offer, intimate, plain = ("gift_or_money_offer", (0.7, 1)), ("image_request", (0.85, 1)), ("image_request", (0.5, 1))
    assert severe_pattern(dict([offer, intimate]), 0.8) == "solicitation"
    assert severe_pattern(dict([offer, intimate]), 0.5) is None  # solicitation needs a likely minor
    assert severe_pattern(dict([offer, plain]), 0.8) is None  # "send a pic" is what family asks
