"""The Engine end to end on conversations written for these tests (English and Swedish)."""

import json

import pytest

from trygg.engine import Engine
from trygg.events import MAX_TEXT_CHARS, parse_event
from trygg.signals.base import Signal

SEVERE = {"warn_recipient", "restrict_sender", "hold_for_review", "block", "report"}


def ev(**fields):
    return parse_event(fields)


def account(uid, age):
    return ev(type="account", user_id=uid, declared_age=age)


def chat(cid, lines, first=("a", "b")):
    """lines: list of (speaker, text) with speaker 'a' or 'b'; yields message events."""
    out = []
    for n, (speaker, text) in enumerate(lines, 1):
        sender = f"{cid}-{speaker}"
        recipient = f"{cid}-{'b' if speaker == 'a' else 'a'}"
        out.append(
            ev(type="message", event_id=f"{cid}-{n}", conversation_id=cid, sender_id=sender, recipient_id=recipient, text=text)
        )
    return out


GROOMING_EN = [
    ("a", "hey you're really talented, way more mature than people my age"),
    ("b", "thanks lol"),
    ("a", "how old are you?"),
    ("b", "im 13"),
    ("a", "cool, i'm 27. do your parents check your phone?"),
    ("b", "not really"),
    ("a", "this stays between us ok? don't tell anyone about our chats"),
    ("b", "ok"),
    ("a", "add me on snapchat, it's safer there"),
    ("b", "ok"),
    ("a", "send me a pic of you without clothes, nobody will see it"),
]

GROOMING_SV = [
    ("a", "hej! du är så fin och mogen för din ålder"),
    ("b", "tack"),
    ("a", "hur gammal är du?"),
    ("b", "jag är 12"),
    ("a", "jag är 31. är du hemma själv efter skolan?"),
    ("b", "ja"),
    ("a", "säg inget till dina föräldrar om oss, det är vår hemlighet"),
    ("b", "okej"),
    ("a", "skicka en bild utan kläder till mig"),
]


def run(engine, events):
    return [engine.process(e) for e in events]


@pytest.mark.parametrize("lines", [GROOMING_EN, GROOMING_SV], ids=["en", "sv"])
def test_grooming_is_flagged_with_the_offender_and_reasons(lines):
    engine = Engine()
    decisions = run(engine, chat("g1", lines))
    summary = engine.summary("g1")
    assert set(summary) == {"conversation_id", "flagged", "label_guess", "risk", "offender_id", "first_alert_event_id", "reasons"}
    assert summary["flagged"] is True
    assert summary["offender_id"] == "g1-a"
    assert summary["label_guess"] in ("grooming", "solicitation")
    assert summary["risk"] >= 0.6
    names = {r["signal"] for r in summary["reasons"]}
    assert "adult_minor_asymmetry" in names
    severe = [d for d in decisions if d is not None and d.severe]
    assert severe and all(d.reasons for d in severe)
    # The child's own messages never get recipient-facing actions aimed at the offender.
    for event, decision in zip(chat("g1", lines), decisions):
        if event.sender_id == "g1-b":
            assert "warn_recipient" not in decision.actions and "nudge_recipient" not in decision.actions
    assert engine.ages["g1-b"].likely_minor and engine.ages["g1-a"].likely_adult


@pytest.mark.parametrize(
    "lines, ages",
    [
        ([("a", "practice moved, meet at the field at 6"), ("b", "ok coach"), ("a", "bring water")], {"a": 41, "b": 13}),
        ([("a", "surprise party for mia on friday, don't tell anyone!"), ("b", "my lips are sealed")], {"a": 14, "b": 14}),
        ([("a", "is the bike still for sale?"), ("b", "yes, 800"), ("a", "i'll pay with swish and pick it up tomorrow")], {}),
        ([("a", "are you home alone?"), ("b", "yes dad"), ("a", "lock the door, home by 7")], {"a": 45, "b": 11}),
        ([("a", "du är så söt idag"), ("b", "haha du med"), ("a", "ses vi efter skolan?")], {"a": 15, "b": 15}),
    ],
    ids=["coach", "surprise", "marketplace", "parent", "teens"],
)
def test_single_surface_cues_stay_below_alert(lines, ages):
    engine = Engine()
    for speaker, age in ages.items():
        engine.process(account(f"h-{speaker}", age))
    decisions = run(engine, chat("h", lines))
    assert not engine.summary("h")["flagged"]
    assert not any(d.severe for d in decisions)


def test_account_events_update_ages_and_answer_with_the_teen_defaults():
    engine = Engine()
    decision = engine.process(account("u1", 14))
    assert decision.event_id == "account:u1" and decision.actions == ("allow",)
    assert decision.reasons[0]["signal"] == "teen_defaults" and decision.reasons[0]["settings"]["private_account"] is True
    assert engine.ages["u1"].likely_minor
    assert engine.drain_dirty() == (set(), {"u1"})
    assert engine.drain_dirty() == (set(), set())


def test_repeated_event_ids_are_no_ops():
    engine = Engine()
    events = chat("d", GROOMING_EN[:3])
    first = run(engine, events)
    assert all(d is not None for d in first)
    state_before = engine.dump_conversation("d")
    assert engine.process(events[1]) is None
    assert engine.is_duplicate(events[1].event_id)
    assert engine.duplicates == 1
    assert engine.dump_conversation("d") == state_before


def test_oversized_text_is_truncated_with_a_warning():
    engine = Engine()
    text = "hej " * (MAX_TEXT_CHARS // 2)
    decision = engine.process(chat("big", [("a", text)])[0])
    assert decision is not None
    assert engine.warnings and engine.warnings[0][0] == "big-1"
    assert "truncated" in engine.warnings[0][1]


def test_snapshot_and_resume_gives_the_same_outcome():
    events = chat("s", GROOMING_EN)
    whole = Engine()
    run(whole, [account("s-b", 13)] + events)
    first = Engine()
    run(first, [account("s-b", 13)] + events[:5])
    conversations, users = first.drain_dirty()
    saved_c = {cid: json.loads(json.dumps(first.dump_conversation(cid))) for cid in conversations}
    saved_u = {uid: json.loads(json.dumps(first.dump_user(uid))) for uid in users}
    second = Engine()
    for cid, data in saved_c.items():
        second.load_conversation(cid, data)
    for uid, data in saved_u.items():
        second.load_user(uid, data)
    run(second, events[5:])
    assert second.summary("s") == whole.summary("s")
    assert second.conversation_ids() == ["s"]


def test_load_rejects_mismatched_ids():
    engine = Engine()
    run(engine, chat("x", [("a", "hi")]))
    with pytest.raises(ValueError):
        engine.load_conversation("y", engine.dump_conversation("x"))


def test_group_room_with_many_people_and_scattered_cues_is_not_flagged():
    engine = Engine()
    lines = [
        "anyone here from stockholm?", "lol", "send pics of your cat", "don't tell anyone but i hate mondays",
        "add me on discord", "meet up at the con this weekend?", "you're so funny", "where do you live?",
    ]
    for n in range(400):
        text = lines[n % len(lines)]
        engine.process(
            ev(type="message", event_id=f"room-{n}", conversation_id="room", sender_id=f"user{n % 37}", text=text)
        )
    assert not engine.summary("room")["flagged"]
    assert len(engine.conversations["room"].participants) <= 32


def test_contact_request_from_adult_to_minor_nudges():
    engine = Engine()
    run(engine, [account("man", 35), account("kid", 12), account("peer", 13)])
    decision = engine.process(ev(type="contact_request", event_id="cr1", sender_id="man", recipient_id="kid"))
    assert "nudge_recipient" in decision.actions
    assert decision.reasons[0]["signal"] == "adult_contacting_minor"
    peer = engine.process(ev(type="contact_request", event_id="cr2", sender_id="peer", recipient_id="kid"))
    assert peer.actions == ("allow",)


def test_report_holds_the_conversation_for_review():
    engine = Engine()
    run(engine, chat("r", [("a", "hi"), ("b", "hello")]))
    decision = engine.process(
        ev(type="report", event_id="rep1", reporter_id="r-b", reported_id="r-a", conversation_id="r", reason="grooming")
    )
    assert "hold_for_review" in decision.actions
    assert any(r["signal"] == "user_report" for r in decision.reasons)
    assert engine.summary("r")["flagged"]
    assert engine.summary("r")["offender_id"] == "r-a"


class _FixedMedia:
    """A media detector stand-in with documented outputs (the real one needs images and banks)."""

    event_types = frozenset({"media"})

    def __init__(self, signals):
        self.signals = signals
        self.calls = []

    def detect(self, event, context):
        self.calls.append((event.event_id, context.sender_minor, context.recipient_minor))
        return [Signal(name, score, event.event_id) for name, score in self.signals]


def media_event(eid, sender="m-a", recipient="m-b"):
    return ev(type="media", event_id=eid, conversation_id="m", sender_id=sender, recipient_id=recipient, pdq="0" * 64)


def test_media_signals_become_decisions():
    media = _FixedMedia([("nudity", 0.93)])
    engine = Engine(media=media)
    run(engine, [account("m-b", 13)])
    decision = engine.process(media_event("p1"))
    assert {"blur", "warn_recipient"} <= set(decision.actions)
    assert media.calls == [("p1", False, True)]
    hashed = Engine(media=_FixedMedia([("hash_match", 1.0)])).process(media_event("p2"))
    assert {"block", "report"} <= set(hashed.actions)
    assert Engine().process(media_event("p3")) is None  # no assessor configured


class _FixedModel:
    """A model stand-in returning explicit scores, to pin the fusion code path."""

    def __init__(self, p):
        self.p = p

    def new_state(self):
        return {"seen": 0}

    def resume_state(self, stored):
        return dict(stored)

    def update(
        self, state, sender_id, normalized_text, signals, sender_age_hint=None, language=None, language_settled=False, prior_risk=0.0
    ):
        state["seen"] += 1
        return {"conversation": self.p, "authors": {sender_id: self.p}}


def test_model_scores_are_fused_and_named():
    lines = GROOMING_EN[:7]
    plain, high, low = Engine(), Engine(model=_FixedModel(0.97)), Engine(model=_FixedModel(0.02))
    for engine in (plain, high, low):
        run(engine, chat("mm", lines))
    assert low.summary("mm")["risk"] <= plain.summary("mm")["risk"] <= high.summary("mm")["risk"]
    assert any(r["signal"] == "model" for r in high.summary("mm")["reasons"])
    assert high.dump_conversation("mm")["model_state"] == {"seen": len(lines)}


class _BrokenMedia:
    event_types = frozenset({"media"})

    def detect(self, event, context):
        from trygg.media.errors import MediaError

        raise MediaError(event.path or "data", "not an image")


def test_unreadable_media_is_allowed_with_an_error_reason_and_a_warning():
    engine = Engine(media=_BrokenMedia())
    decision = engine.process(media_event("bad"))
    assert decision.actions == ("allow",)
    assert decision.reasons[0]["signal"] == "media_error"
    assert engine.warnings[0][0] == "bad"


def test_media_flag_the_conversation():
    engine = Engine(media=_FixedMedia([("hash_match", 1.0)]))
    engine.process(media_event("h1"))
    summary = engine.summary("m")
    assert summary["flagged"] and summary["offender_id"] == "m-a"
    assert summary["first_alert_event_id"] == "h1"


SEXTORTION_SV = [
    ("a", "hej, minns du bilderna du skickade?"),
    ("b", "ja varför"),
    ("a", "skicka tre till ikväll annars sprider jag dem till hela din skola"),
    ("b", "snälla jag är bara 14"),
    ("a", "du har en timme. säg inget till någon"),
]

SOLICITATION_EN = [
    ("a", "hey i have tons of robux, want some?"),
    ("b", "yes!! im 11 lol"),
    ("a", "i'll give you 2000 robux if you send me private pics without clothes"),
]


@pytest.mark.parametrize(
    "lines, label", [(SEXTORTION_SV, "sextortion"), (SOLICITATION_EN, "solicitation")], ids=["sv-sextortion", "en-solicitation"]
)
def test_coercion_of_a_minor_is_flagged(lines, label):
    engine = Engine()
    decisions = run(engine, chat("k", lines))
    summary = engine.summary("k")
    assert summary["flagged"] and summary["offender_id"] == "k-a"
    assert summary["label_guess"] == label
    assert decisions[-1].severe


def test_solicitation_of_a_minor_is_reported():
    decisions = run(Engine(), chat("k", SOLICITATION_EN))
    assert "report" in decisions[-1].actions
