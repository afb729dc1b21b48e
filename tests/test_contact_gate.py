"""Contact gates and suspicious adults: one test per rule, through the engine and the graph."""

from dataclasses import replace

import pytest

from policy_cases import account, at, contact, run_case
from trygg.contact.graph import ContactGraph, UserContacts
from trygg.engine import Engine
from trygg.events import parse_event
from trygg.policy import Policy


def engine_with(*events, policy=None):
    engine = Engine(policy=policy)
    for obj in events:
        engine.process(parse_event(obj))
    return engine


def decide(engine, obj):
    return engine.process(parse_event(obj))


def policy_with(**contact):
    base = Policy.default()
    return replace(base, protection=replace(base.protection, contact=replace(base.protection.contact, **contact)))


@pytest.mark.parametrize("setting, actions", [("deny", ("block",)), ("message_request", ("nudge_recipient",)), ("allow", ("allow",))])
def test_adult_to_unconnected_minor_follows_the_setting(setting, actions):
    engine = engine_with(account("man", 35), account("kid", 13), policy=policy_with(adult_to_unconnected_minor=setting))
    decision = decide(engine, contact("r1", "man", "kid"))
    assert decision.actions == actions
    assert decision.reasons[0]["outcome"] == setting


def test_a_connection_opens_the_gate_and_removing_it_closes_it():
    engine = engine_with(account("man", 35), account("kid", 13), {"type": "connection", "event_id": "x1", "user_id": "man", "other_id": "kid"})
    assert decide(engine, contact("r1", "man", "kid")).actions == ("allow",)
    decide(engine, {"type": "connection", "event_id": "x2", "user_id": "kid", "other_id": "man", "state": "removed"})
    assert decide(engine, contact("r2", "man", "kid")).actions == ("nudge_recipient",)


def test_minor_to_adult_and_unknown_to_minor():
    engine = engine_with(account("man", 35), account("kid", 13))
    assert decide(engine, contact("r1", "kid", "man")).actions == ("allow",)
    # unknown age is treated as an adult by the default policy: the gate applies to them
    assert decide(engine, contact("r2", "stranger", "kid")).actions == ("nudge_recipient",)


def test_group_add_needs_the_minors_consent_unless_the_policy_allows():
    engine = engine_with(account("man", 35), account("kid", 14), policy=policy_with(group_add_minor="allow"))
    decision = decide(engine, contact("r1", "man", "kid", surface="group_add"))
    assert decision.actions == ("nudge_recipient",)
    assert decision.reasons[0]["rule"] == "contact.adult_to_unconnected_minor"
    _, engine = run_case("adult_adds_minor_to_group")
    assert engine.contacts.restriction("man") is None


def test_fan_out_counts_distinct_minors_within_the_window_only():
    events = [account("a", 41)] + [account(f"k{i}", 14) for i in range(12)]
    engine = engine_with(*events, policy=policy_with(fan_out_minors=3, fan_out_window_minutes=60))
    # the same minor twice is one minor; three hours apart falls out of the window
    for i, (kid, minutes) in enumerate([("k0", 0), ("k0", 1), ("k1", 2), ("k2", 200), ("k3", 230)]):
        decision = decide(engine, contact(f"r{i}", "a", kid, minutes=minutes))
        assert "restrict_sender" not in decision.actions
    decision = decide(engine, contact("r9", "a", "k4", minutes=240))
    assert {"restrict_sender", "hold_for_review"} <= set(decision.actions)
    fan = [r for r in decision.reasons if r["signal"] == "contact_fan_out"][0]
    assert fan["value"] == 3 and fan["rule"] == "contact.fan_out"


def test_reports_by_minors_count_like_blocks_and_adults_reports_do_not():
    engine = engine_with(account("man", 40), account("k1", 13), account("k2", 15), account("grown", 33))
    report = lambda eid, who: {"type": "report", "event_id": eid, "reporter_id": who, "reported_id": "man", "reason": "harassment"}
    decide(engine, report("p1", "grown"))
    decide(engine, report("p2", "k1"))
    assert engine.contacts.restriction("man") is None
    decision = decide(engine, report("p3", "k1"))  # the same minor again: still one
    assert engine.contacts.restriction("man") is None
    decision = decide(engine, {"type": "block", "event_id": "b1", "blocker_id": "k2", "blocked_id": "man"})
    assert {"restrict_sender", "hold_for_review"} <= set(decision.actions)
    assert engine.contacts.restriction("man")["rule"] == "contact.reported_or_blocked_by_minors"
    assert decide(engine, contact("r1", "man", "k1")).actions == ("block",)


def test_a_minor_blocking_a_minor_counts_for_nothing():
    engine = engine_with(account("a", 14), account("k1", 13), account("k2", 13))
    for i, kid in enumerate(("k1", "k2")):
        assert decide(engine, {"type": "block", "event_id": f"b{i}", "blocker_id": kid, "blocked_id": "a"}).actions == ("allow",)
    assert not engine.contacts.get("a") or not engine.contacts["a"].complaints_by_minors


def test_new_account_rule_needs_both_times_and_respects_the_age_limit():
    engine = engine_with(account("old", 29, created_at=at(-30 * 24 * 60)), account("fresh", 29, created_at=at(-60)), account("kid", 14))
    assert decide(engine, contact("r1", "old", "kid")).actions == ("nudge_recipient",)
    decision = decide(engine, contact("r2", "fresh", "kid"))
    assert "restrict_sender" in decision.actions
    untimed = {"type": "contact_request", "event_id": "r3", "sender_id": "fresh", "recipient_id": "kid"}
    engine2 = engine_with(account("fresh", 29, created_at=at(-60)), account("kid", 14))
    assert decide(engine2, untimed).actions == ("nudge_recipient",)


def test_age_contradiction_restricts_at_the_gate():
    engine = engine_with(account("t", 16), account("kid", 13))
    engine.ages["t"].adult_evidence = 0.9  # as a message with adult indicators leaves it
    engine.ages["t"]._belief = None
    decision = decide(engine, contact("r1", "t", "kid"))
    assert {"nudge_recipient", "restrict_sender", "hold_for_review"} <= set(decision.actions)
    assert "contact.age_contradiction" in {r["rule"] for r in decision.reasons}


def test_restricted_sender_setting_message_request():
    engine = engine_with(account("t", 16), account("kid", 13), account("kid2", 13), policy=policy_with(restricted_sender_to_minor="message_request"))
    decide(engine, {"type": "message", "event_id": "m1", "conversation_id": "c", "sender_id": "t", "recipient_id": "kid", "text": "i'm 34 btw"})
    decision = decide(engine, contact("r1", "t", "kid2"))
    assert decision.actions == ("nudge_recipient",) and decision.reasons[0]["signal"] == "restricted_sender"


def test_a_shadow_policy_restricts_nobody():
    base = Policy.default()
    engine = engine_with(account("t", 16), account("kid", 13), policy=replace(base, mode="shadow"))
    decision = decide(engine, {"type": "message", "event_id": "m1", "conversation_id": "c", "sender_id": "t", "recipient_id": "kid", "text": "i'm 34 btw"})
    assert decision.actions == ("allow",)
    assert any(r["signal"] == "policy_shadow" for r in decision.reasons)
    assert engine.contacts.restriction("t") is None


def test_contact_state_round_trips_through_dump_and_load_user():
    _, engine = run_case("fan_out_20th_minor_in_an_hour")
    data = engine.dump_user("trawler")
    again = Engine()
    again.load_user("trawler", data)
    assert again.contacts.restriction("trawler") == engine.contacts.restriction("trawler")
    assert again.contacts["trawler"].recent_minor_contacts == engine.contacts["trawler"].recent_minor_contacts


def test_the_graph_is_bounded_and_rejects_garbage():
    graph = ContactGraph()
    for i in range(300):
        graph.note_minor_contact("a", f"k{i}", float(i), 3600)
    assert len(graph["a"].recent_minor_contacts) == 200
    with pytest.raises(ValueError, match="contact state"):
        UserContacts.from_dict({"created_at": "yesterday"})


def test_a_shadow_policy_reports_fan_out_but_restricts_nobody():
    from policy_cases import _fan_out

    engine = engine_with(*_fan_out(12), policy=replace(Policy.default(), mode="shadow"))
    assert engine.contacts.restriction("trawler") is None
    decision = decide(engine, contact("p", "trawler", "kid11", minutes=30))
    assert decision.actions == ("allow",)
    assert "restrict_sender" in [r for r in decision.reasons if r["signal"] == "policy_shadow"][0]["would"]


def test_conversation_style_rules_for_contact_requests_still_apply():
    base = Policy.default()
    text = 'name = "x"\nversion = 1\n[[rules]]\naction = "hold_for_review"\nevent_types = ["contact_request"]\nmin_risk = 0.4\n'
    engine = engine_with(account("man", 35), account("kid", 13), policy=Policy.from_toml(text))
    decision = decide(engine, contact("r1", "man", "kid"))
    assert decision.actions == ("nudge_recipient", "hold_for_review")
    assert [r["rule"] for r in decision.reasons] == ["contact.adult_to_unconnected_minor"]  # once, not twice
    assert decide(engine, contact("r2", "kid", "man")).actions == ("allow",)
    assert base.protection.contact.adult_to_unconnected_minor == "message_request"
