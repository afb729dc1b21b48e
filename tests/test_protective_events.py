"""The new event types and fields: validation, and state that survives the store between runs."""

import json
from datetime import date, datetime, timezone

from policy_cases import _fan_out, contact
from trygg.age.assurance import age_on
from trygg.engine import Engine
from trygg.events import parse_event, read_lines
from trygg.scan import scan
from trygg.sinks import CollectingSink
from trygg.store.repository import Store


def errors(*objs):
    return [(p.line, p.error.field) for p in read_lines([json.dumps(o) for o in objs]) if p.error]


def test_new_events_validate_with_precise_errors():
    good = [
        {"type": "age_estimate", "event_id": "e1", "user_id": "u", "method": "os_age_range", "age_low": 13, "age_high": 15},
        {"type": "connection", "event_id": "e2", "user_id": "u", "other_id": "v"},
        {"type": "block", "event_id": "e3", "blocker_id": "u", "blocked_id": "v"},
        {"type": "account", "user_id": "u", "birth_date": "2011-05-04"},
        {"type": "ad_request", "event_id": "e4", "user_id": "u", "ad_id": "a", "rating": "teen"},
    ]
    assert errors(*good) == []
    bad = [
        {"type": "age_estimate", "event_id": "e1", "user_id": "u", "method": "x", "age_low": 20, "age_high": 15},
        {"type": "age_estimate", "event_id": "e1", "user_id": "u", "method": "x", "age_low": 20, "assurance": "very"},
        {"type": "connection", "event_id": "e2", "user_id": "u", "other_id": "v", "state": "pending"},
        {"type": "block", "event_id": "e3", "blocker_id": "u"},
        {"type": "account", "user_id": "u", "birth_date": "yesterday"},
    ]
    assert errors(*bad) == [(1, "<event>"), (2, "assurance"), (3, "state"), (4, "blocked_id"), (5, "birth_date")]


def test_a_birth_date_declares_the_age_it_gives_today():
    engine = Engine()
    decision = engine.process(parse_event({"type": "account", "user_id": "u", "birth_date": "2012-01-15"}))
    expected = age_on(date(2012, 1, 15), datetime.now(timezone.utc).date())
    assert engine.ages["u"].declared_age == expected and engine.ages["u"].birth_date == "2012-01-15"
    assert decision.reasons[0]["signal"] == ("teen_defaults" if expected < 18 else "age_band")


def test_an_estimate_event_makes_a_declared_adult_a_minor():
    engine = Engine()
    engine.process(parse_event({"type": "account", "user_id": "u", "declared_age": 25}))
    decision = engine.process(parse_event({"type": "age_estimate", "event_id": "e1", "user_id": "u", "method": "os_age_range", "age_low": 13, "age_high": 15}))
    assert decision.reasons[0]["band"] == "13-15" and decision.reasons[0]["minor"] is True
    assert engine.process(parse_event({"type": "ad_request", "event_id": "a1", "user_id": "u", "ad_id": "x", "categories": ["alcohol"]})).actions == ("block",)


def test_contact_state_persists_between_runs_through_the_store(database_url: str):
    url = database_url
    events = _fan_out(10)  # accounts and the first nine requests
    first = scan(read_lines([json.dumps(o) for o in events]), Engine(), Store(url))
    assert first.processed == 9
    answer = CollectingSink()
    scan(read_lines([json.dumps(contact("p", "trawler", "kid9", minutes=9 * 2.5))]), Engine(), Store(url), sinks=[answer])
    assert "restrict_sender" in answer.decisions[0].actions  # the tenth minor, counted with the stored nine
    stored = Store(url).load_users(["trawler"])["trawler"]
    assert stored["contact"]["restricted"]["rule"] == "contact.fan_out"


def test_block_and_connection_events_are_stored_with_both_parties(database_url: str):
    from sqlalchemy import text

    store = Store(database_url)
    lines = [
        json.dumps({"type": "block", "event_id": "b1", "blocker_id": "k", "blocked_id": "m"}),
        json.dumps({"type": "connection", "event_id": "c1", "user_id": "k", "other_id": "f"}),
    ]
    scan(read_lines(lines), Engine(), store)
    with store.engine.connect() as connection:
        rows = dict((r[0], (r[1], r[2])) for r in connection.execute(text("select event_id, sender_id, recipient_id from events")))
    assert rows == {"b1": ("k", "m"), "c1": ("k", "f")}
