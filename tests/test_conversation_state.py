"""Conversation state and risk fusion, with signals given explicitly (no language pack needed).

These pin the behaviour the detectors rely on: combinations from an adult toward a minor alert,
single innocent cues do not, a minor's own words are not evidence against them, and group rooms
do not add up different people's cues.
"""

import json

import pytest

from trygg.age.picture import AgeBook
from trygg.conversation.state import ConversationState, step
from trygg.events import MessageEvent
from trygg.signals.base import Signal

A, B = "adult", "kid"


def msg(n, sender, recipient=B, cid="c1"):
    return MessageEvent(
        type="message", event_id=f"{cid}-{n}", conversation_id=cid, sender_id=sender, recipient_id=recipient, text="x"
    )


def sig(name, event_id, score=0.8):
    return Signal(name, score, event_id, span=(0, 1), language="en")


def ages(adult_age=30, kid_age=13):
    book = AgeBook()
    if adult_age is not None:
        book.picture(A).declare(adult_age)
    if kid_age is not None:
        book.picture(B).declare(kid_age)
    return book


def run(script, book, cid="c1", model_scores=None):
    """script: list of (sender, [signal names]); returns the state and every assessment."""
    state = ConversationState(cid)
    out = []
    for n, (sender, names) in enumerate(script, start=1):
        recipient = B if sender == A else A
        event = msg(n, sender, recipient, cid)
        signals = [sig(name, event.event_id) for name in names]
        state, assessment = step(state, event, signals, book, model_scores)
        out.append(assessment)
    return state, out


GROOMING = [
    (A, ["compliments_trust"]),
    (B, []),
    (A, ["age_inquiry"]),
    (B, []),
    (A, ["secrecy"]),
    (B, []),
    (A, ["platform_migration"]),
    (B, []),
    (A, ["image_request"]),
]


def test_adult_to_minor_combination_alerts_and_names_the_offender():
    state, out = run(GROOMING, ages())
    final = out[-1]
    assert final.risk >= 0.9
    assert final.offender_id == A and final.minor_id == B and final.adult_id == A
    assert final.stage == "sexualisation"
    assert state.flagged
    assert sum(a.first_alert for a in out) == 1
    names = [r["signal"] for r in final.reasons]
    assert {"image_request", "secrecy", "platform_migration"} <= set(names)
    assert "adult_minor_asymmetry" in names


def test_each_cue_alone_stays_below_alert():
    for name in ("meeting_request", "secrecy", "personal_info_request", "gift_or_money_offer", "platform_migration"):
        state, out = run([(A, [name]), (B, [])], ages())
        assert out[-1].risk < 0.35, name
        assert not state.flagged


def test_combination_is_riskier_than_any_single_cue():
    _, single = run([(A, ["secrecy"])], ages())
    _, combined = run(GROOMING, ages())
    assert combined[-1].risk > single[-1].risk + 0.5


def test_same_signals_between_two_minors_do_not_alert():
    state, out = run(GROOMING[:-1], ages(adult_age=14, kid_age=13))
    assert max(a.risk for a in out) < 0.6
    assert not state.flagged


def test_same_signals_between_two_adults_do_not_alert():
    state, _out = run(GROOMING[:-1], ages(adult_age=30, kid_age=29))
    assert not state.flagged


def test_minor_signals_are_not_evidence_against_the_minor():
    script = [(B, ["sexual_talk", "image_request"]), (A, []), (B, ["secrecy", "platform_migration"])]
    _state, out = run(script, ages())
    assert max(a.risk for a in out) < 0.35
    assert out[-1].offender_id in (None, A)


def test_risk_rises_when_the_child_reveals_their_age():
    book = ages(adult_age=30, kid_age=None)
    state = ConversationState("c1")
    script = [(A, ["compliments_trust"]), (A, ["secrecy"]), (A, ["platform_migration"])]
    for n, (sender, names) in enumerate(script, 1):
        event = msg(n, sender)
        state, before = step(state, event, [sig(x, event.event_id) for x in names], book)
    book.picture(B).observe([Signal("age_disclosure", 0.9, "c1-9", value=12)])
    state, after = step(state, msg(9, B, A), [], book)
    assert after.risk > before.risk
    assert after.offender_id == A and after.minor_id == B


def test_sextortion_and_solicitation_are_told_apart():
    _, out = run([(A, ["image_request"]), (A, ["threat"])], ages())
    assert out[-1].label_guess == "sextortion"
    _, out = run([(A, ["gift_or_money_offer"]), (A, ["image_request"])], ages())
    assert out[-1].label_guess == "solicitation"
    _, out = run(GROOMING, ages())
    assert out[-1].label_guess == "grooming"


def test_group_room_does_not_mix_different_senders_cues():
    book = AgeBook()
    state = ConversationState("room")
    cues = ["compliments_trust", "secrecy", "platform_migration", "image_request", "meeting_request"]
    for n, name in enumerate(cues * 4):
        event = MessageEvent(
            type="message", event_id=f"r{n}", conversation_id="room", sender_id=f"u{n}", text="x"
        )
        state, assessment = step(state, event, [sig(name, event.event_id)], book)
        assert assessment.offender_id in (None, f"u{n}")
    assert not state.flagged
    assert len(state.participants) <= 32


def test_group_participants_are_bounded():
    state = ConversationState("room")
    for n in range(500):
        event = MessageEvent(type="message", event_id=f"r{n}", conversation_id="room", sender_id=f"u{n}", text="x")
        state, _ = step(state, event, [], AgeBook())
    assert len(state.participants) == 32
    assert state.messages == 500


def test_model_score_adds_evidence_and_names_itself():
    script = [(A, ["compliments_trust"]), (A, ["secrecy"])]
    _, plain = run(script, ages())
    _, high = run(script, ages(), model_scores={"conversation": 0.95, "authors": {A: 0.95}})
    _, low = run(script, ages(), model_scores={"conversation": 0.05, "authors": {A: 0.05}})
    assert low[-1].risk == plain[-1].risk < high[-1].risk  # adds evidence, never vetoes
    assert {"signal": "model", "score": 0.95, "user_id": A} in high[-1].reasons
    assert not any(r["signal"] == "model" for r in low[-1].reasons)


def test_a_model_allowed_to_lower_can_veto(monkeypatch):
    from trygg.conversation import risk

    monkeypatch.setattr(risk, "MODEL_CAN_LOWER", True)
    script = [(A, ["compliments_trust"]), (A, ["secrecy"])]
    _, plain = run(script, ages())
    _, low = run(script, ages(), model_scores={"conversation": 0.05, "authors": {A: 0.05}})
    assert low[-1].risk < plain[-1].risk


def test_model_weighs_less_for_a_likely_minor():
    script = [(A, ["compliments_trust"]), (A, ["secrecy"])]
    scores = {"conversation": 0.99, "authors": {A: 0.99}}
    _, adult_plain = run(script, ages(adult_age=30))
    _, adult_model = run(script, ages(adult_age=30), model_scores=scores)
    _, teen_plain = run(script, ages(adult_age=15, kid_age=15))
    _, teen_model = run(script, ages(adult_age=15, kid_age=15), model_scores=scores)
    assert teen_model[-1].risk - teen_plain[-1].risk < adult_model[-1].risk - adult_plain[-1].risk


def test_model_alone_never_reaches_an_alert():
    state, out = run([(A, []), (B, []), (A, [])], ages(), model_scores={"conversation": 1.0, "authors": {A: 1.0}})
    assert max(a.risk for a in out) < 0.6
    assert not state.flagged


def test_state_round_trips_through_json_and_resumes_identically():
    book = ages()
    state_a, out_a = run(GROOMING, book)
    # Replay half, snapshot through JSON, resume.
    state = ConversationState("c1")
    for n, (sender, names) in enumerate(GROOMING[:4], 1):
        e = msg(n, sender, B if sender == A else A)
        state, _ = step(state, e, [sig(x, e.event_id) for x in names], book)
    state = ConversationState.from_dict(json.loads(json.dumps(state.to_dict())))
    for n, (sender, names) in enumerate(GROOMING[4:], 5):
        e = msg(n, sender, B if sender == A else A)
        state, last = step(state, e, [sig(x, e.event_id) for x in names], book)
    assert last.risk == out_a[-1].risk
    assert state.to_dict() == state_a.to_dict()


def test_reasons_are_bounded():
    names = ["compliments_trust", "age_inquiry", "personal_info_request", "secrecy", "isolation",
             "platform_migration", "meeting_request", "gift_or_money_offer", "image_request",
             "sexual_talk", "threat", "payment_details"]
    _, out = run([(A, names)], ages())
    assert len(out[-1].reasons) <= 10


def test_from_dict_rejects_garbage():
    import pytest

    with pytest.raises(ValueError, match="conversation state"):
        ConversationState.from_dict({"participants": {"u": {"n": "x"}}})


def test_in_a_room_a_minor_present_counts_less_than_a_minor_addressed():
    book = AgeBook()
    book.picture("man").declare(35)
    book.picture("girl").declare(13)
    # (no cue that singles one person out: see the test after this one)
    cues = ["compliments_trust", "sexual_talk", "gift_or_money_offer"]

    def final(recipient, cues=cues):
        state = ConversationState("c")
        state, _ = step(state, MessageEvent(type="message", event_id="g0", conversation_id="c", sender_id="girl",
                                            recipient_id=recipient and "man", text="x"), [], book)
        for n, name in enumerate(cues, 1):
            event = MessageEvent(type="message", event_id=f"g{n}", conversation_id="c", sender_id="man",
                                 recipient_id=recipient, text="x")
            state, a = step(state, event, [sig(name, event.event_id)], book)
        return a.risk

    assert final(None) < final("girl")
    # Moving one person to another app, or asking them for a secret, is said to one person:
    # the room's discount no longer applies to the sender who does it.
    singling = ["compliments_trust", "sexual_talk", "platform_migration"]
    assert final(None, singling) == pytest.approx(final("girl", singling))


def test_a_dump_is_a_snapshot_that_later_steps_do_not_change():
    book = ages()
    state, _ = run(GROOMING[:5], book)
    dumped = state.to_dict()
    frozen = json.dumps(dumped, sort_keys=True)
    for n, (sender, names) in enumerate(GROOMING[5:] + GROOMING[:5], 6):
        e = msg(n, sender, B if sender == A else A)
        state, _ = step(state, e, [sig(x, e.event_id) for x in names], book)
    assert json.dumps(dumped, sort_keys=True) == frozen
    assert state.to_dict() != dumped


def test_evidence_free_fusions_are_shared_exactly_and_bounded(monkeypatch):
    from trygg.conversation import risk

    for pa, pm, deception, group in [(0.8, 0.8, False, False), (0.85, 0.5, True, False), (0.5, 0.75, False, True)]:
        for model_p in (None, 0.0, 0.3, 0.5, 0.5000001, 0.9, 1.5):
            fresh = risk._fuse({}, pa, pm, deception, group, model_p, risk.NO_CONTEXT)
            assert risk.fuse({}, pa, pm, deception, group, model_p) == fresh
            assert risk.fuse({}, pa, pm, deception, group, model_p) == fresh  # served from the memo
    monkeypatch.setattr(risk, "MODEL_CAN_LOWER", True)
    assert risk.fuse({}, 0.8, 0.8, model_p=0.0).risk < risk.fuse({}, 0.8, 0.8).risk
    monkeypatch.setattr(risk, "_NO_EVIDENCE_SIZE", 8)
    for i in range(50):
        risk.fuse({}, i / 50, 0.5)
        assert len(risk._NO_EVIDENCE) <= 8


def test_a_step_without_model_scores_never_reuses_a_view_made_with_them():
    """Model steps keep no view (none of them reads it), so a later plain step cannot reuse an
    assessment whose ages have changed since: it fuses anew, as a fresh state would."""
    book = ages(adult_age=None, kid_age=None)
    scores = {"conversation": 0.2, "authors": {A: 0.2, B: 0.1}}
    state, _ = run([(A, ["compliments_trust"]), (B, [])], book, model_scores=scores)
    assert state._view is None
    book.picture(A).declare(40)
    book.picture(B).declare(12)
    e = msg(3, A)
    _, plain = step(state, e, [], book)
    fresh_state, _ = run([(A, ["compliments_trust"]), (B, [])], book, model_scores=scores)
    _, fresh = step(fresh_state, msg(3, A), [], book)
    assert plain == fresh
    assert plain.risk > run([(A, ["compliments_trust"])], ages(None, None))[1][-1].risk


def test_a_sender_who_singled_someone_out_of_a_room_stays_judged_one_to_one():
    book = AgeBook()
    book.picture("man").declare(35)
    book.picture("girl").declare(13)

    def final(recipient):
        state = ConversationState("c")
        state, _ = step(state, MessageEvent(type="message", event_id="g0", conversation_id="c", sender_id="girl",
                                            recipient_id=recipient and "man", text="x"), [], book)
        # a move to private just at the line, then the decay of several messages
        names = ["platform_migration", "compliments_trust", "gift_or_money_offer"] + ["compliments_trust"] * 6
        for n, name in enumerate(names, 1):
            event = MessageEvent(type="message", event_id=f"g{n}", conversation_id="c", sender_id="man",
                                 recipient_id=recipient, text="x")
            state, a = step(state, event, [sig(name, event.event_id, 0.6 if name == "platform_migration" else 0.8)], book)
        return a.risk

    assert final(None) == pytest.approx(final("girl"))
