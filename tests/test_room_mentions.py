"""Event format v1.1 ``mentions``: whom a sender in a room writes to by name.

A room's discount assumes talk to everyone. A message that mentions one user ("@zoe shoot me
a dm", or a reply to zoe's message) is written to that child in front of the room, so from then
on the sender's tactics are weighed toward that child as in a one-to-one chat, and an age the
message ascribes ("for a 6th grader") goes to them.
"""

from __future__ import annotations

import json

import pytest

from trygg.conversation.state import ConversationState
from trygg.engine import Engine
from trygg.events import MAX_MENTIONS, parse_event, read_lines

ROOM = [
    ("mod", None, "welcome to the build team everyone, quick one, what years are you all in"),
    ("kobi", None, "year 8"),
    ("zoe", None, "year 6 haha"),
    ("mod", "zoe", "zoe your builds are the best here, i'll gift you nitro for it"),
    ("mod", "zoe", "zoe what time does your mum make you get off? we could do a voice call when it's quiet"),
    ("mod", "zoe", "zoe you're so mature for your age, way cooler than the adults i know"),
]


def _room(name: str, lines, with_mentions: bool = True) -> Engine:
    engine = Engine()
    for n, (speaker, mention, text) in enumerate(lines, 1):
        event = {"type": "message", "event_id": f"{name}-{n}", "conversation_id": name, "sender_id": f"{name}:{speaker}", "text": text}
        if with_mentions and mention:
            event["mentions"] = [f"{name}:{mention}"]
        engine.process(parse_event(event))
    return engine


def _risk(engine: Engine, name: str, speaker: str) -> float:
    return engine.conversations[name].participants[f"{name}:{speaker}"]["risk"]


def test_tactics_written_to_one_mentioned_child_weigh_as_in_a_one_to_one_chat():
    mentioned = _room("m", ROOM)
    unmentioned = _room("u", ROOM, with_mentions=False)
    assert _risk(mentioned, "m", "mod") > _risk(unmentioned, "u", "mod")
    assert mentioned.conversations["m"].participants["m:mod"]["to"] == ["m:zoe"]


def test_talk_to_the_whole_room_with_mentions_of_many_is_not_singling_out():
    lines = [(speaker, None, text) for speaker, _, text in ROOM[:3]] + [
        ("mod", None, "great builds today all of you"),
        ("mod", None, "kobi and zoe, the contest is on saturday, ask your parents before joining voice"),
    ]
    engine = Engine()
    for n, (speaker, _, text) in enumerate(lines, 1):
        event = {"type": "message", "event_id": f"r-{n}", "conversation_id": "r", "sender_id": f"r:{speaker}", "text": text}
        if n == 5:
            event["mentions"] = ["r:kobi", "r:zoe"]  # two users: said to both, not to one
        engine.process(parse_event(event))
    assert "to" not in engine.conversations["r"].participants["r:mod"]
    assert not engine.summary("r")["flagged"]


def test_an_age_ascribed_in_a_room_goes_to_the_one_user_mentioned():
    engine = _room("a", [("kid", None, "hi"), ("man", "kid", "u were going crazy last night for a 6th grader lol")])
    kid = engine.ages.peek("a:kid")
    assert kid.implied_ages and kid.p_minor > 0.5
    assert not engine.ages.peek("a:man").implied_ages


def test_a_sender_mentioning_themself_addresses_nobody():
    engine = _room("s", [("kid", None, "hi"), ("man", "man", "man i'm tired")])
    assert "to" not in engine.conversations["s"].participants["s:man"]


def test_addressees_survive_a_dump_and_a_load():
    engine = _room("d", ROOM)
    state = engine.conversations["d"]
    loaded = ConversationState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert loaded.participants["d:mod"]["to"] == ["d:zoe"]


def test_mentions_are_validated_and_bad_lines_lose_nothing():
    good = {"type": "message", "event_id": "e1", "conversation_id": "c", "sender_id": "u", "text": "hi", "mentions": ["v"]}
    lines = [
        json.dumps(good).encode(),
        json.dumps(dict(good, event_id="e2", mentions=[""])).encode(),
        json.dumps(dict(good, event_id="e3", mentions=[f"u{n}" for n in range(MAX_MENTIONS + 1)])).encode(),
        json.dumps(dict(good, event_id="e4", mentions="v")).encode(),
        json.dumps(dict(good, event_id="e5")).encode(),
    ]
    parsed = list(read_lines(lines))
    assert [p.event.event_id if p.event else None for p in parsed] == ["e1", None, None, None, "e5"]
    assert parsed[0].event.mentions == ("v",)
    assert parsed[1].error.field == "mentions.0" and "at least 1" in parsed[1].error.message
    assert parsed[2].error.field == "mentions" and str(MAX_MENTIONS) in parsed[2].error.message
    assert parsed[3].error.field == "mentions"


@pytest.mark.parametrize("raw", [
    '{"type":"message","event_id":"e","conversation_id":"c","sender_id":"u","text":"hi","mentions":["a","b"]}',
])
def test_the_fast_reader_reads_mentions_as_the_reference_does(raw):
    from trygg.events import parse_line

    assert parse_line(raw, 1).event == parse_event(json.loads(raw))


@pytest.mark.parametrize(("fields", "expected"), [
    ({"recipient_id": "b"}, "b"),
    ({"mentions": ["b"]}, "b"),
    ({"mentions": ["b", "c"]}, None),
    ({"mentions": ["a"]}, None),
    ({}, None),
])
def test_whom_a_message_is_written_to(fields, expected):
    from trygg.events import addressee_of

    event = parse_event({"type": "message", "event_id": "e", "conversation_id": "c", "sender_id": "a", "text": "hi", **fields})
    assert addressee_of(event) == expected
