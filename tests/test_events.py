"""Event format v1: valid lines kept, every bad line reported with its line number and field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trygg.events import (
    MAX_TEXT_CHARS,
    AccountEvent,
    MediaEvent,
    MessageEvent,
    StrictModeError,
    read_events,
    read_lines,
    text_for_detection,
)

MSG = {"type": "message", "event_id": "e1", "conversation_id": "c1", "sender_id": "u1", "recipient_id": "u2", "text": "hej!"}


def _lines(*objs: object) -> list[bytes]:
    return [(o if isinstance(o, (bytes, str)) else json.dumps(o)).encode() if not isinstance(o, bytes) else o for o in objs]


def test_all_seven_event_types_parse() -> None:
    events = [
        {"type": "account", "user_id": "u1", "declared_age": 15, "created_at": "2026-01-01T00:00:00Z", "country": "SE"},
        MSG,
        {"type": "media", "event_id": "e2", "conversation_id": "c1", "sender_id": "u1", "media_type": "image", "path": "p.jpg"},
        {"type": "contact_request", "event_id": "e3", "sender_id": "u9", "recipient_id": "u1", "surface": "friend"},
        {"type": "age_proof", "event_id": "e4", "user_id": "u1", "method": "eu_av_mdoc", "payload": "AAAA", "nonce": "n"},
        {"type": "ad_request", "event_id": "e5", "user_id": "u1", "ad_id": "a7", "categories": ["gambling"]},
        {"type": "report", "event_id": "e6", "reporter_id": "u1", "reported_id": "u9", "reason": "grooming"},
    ]
    parsed = list(read_lines(_lines(*events)))
    assert [p.error for p in parsed] == [None] * 7
    assert [p.event.type for p in parsed] == [e["type"] for e in events]


def test_invalid_line_reported_with_line_and_field_and_neighbours_kept() -> None:
    bad = dict(MSG, event_id="e2", text=42)
    parsed = list(read_lines(_lines(MSG, bad, dict(MSG, event_id="e3"))))
    assert [p.line for p in parsed] == [1, 2, 3]
    assert parsed[0].event.event_id == "e1" and parsed[2].event.event_id == "e3"
    assert parsed[1].event is None
    assert (parsed[1].error.line, parsed[1].error.field) == (2, "text")
    assert "line 2: text:" in str(parsed[1].error)


@pytest.mark.parametrize(
    ("raw", "field", "needle"),
    [
        (b'{"type": "message", "event_id": ', "<line>", "invalid JSON"),
        (b"[1, 2]", "<line>", "JSON object"),
        (b'{"event_id": "x"}', "type", "missing"),
        (b'{"type": "telepathy", "event_id": "x"}', "type", "unknown event type 'telepathy'"),
        (json.dumps({k: v for k, v in MSG.items() if k != "sender_id"}).encode(), "sender_id", "Field required"),
        (json.dumps(dict(MSG, event_id="")).encode(), "event_id", "at least 1"),
        (json.dumps({"type": "account", "user_id": "u", "declared_age": 300}).encode(), "declared_age", "less than or equal"),
        (json.dumps({"type": "media", "event_id": "m", "sender_id": "u"}).encode(), "<event>", "'path', 'data' or 'pdq'"),
        (json.dumps({"type": "media", "event_id": "m", "sender_id": "u", "pdq": "xyz"}).encode(), "pdq", "pattern"),
        (b"\xff\xfe{}", "<line>", "not valid UTF-8"),
    ],
)
def test_precise_errors(raw: bytes, field: str, needle: str) -> None:
    (parsed,) = list(read_lines([raw], start_line=7))
    assert parsed.event is None
    assert parsed.error.line == 7
    assert parsed.error.field == field
    assert needle in parsed.error.message


def test_non_utf8_line_in_a_file_keeps_the_valid_lines(tmp_path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(json.dumps(MSG).encode() + b"\n" + b'{"text": "\xe5\xe4\xf6"}\n' + json.dumps(dict(MSG, event_id="e9")).encode() + b"\n")
    parsed = list(read_events(path))
    assert [p.event.event_id for p in parsed if p.event] == ["e1", "e9"]
    assert parsed[1].error.line == 2 and "UTF-8" in parsed[1].error.message


def test_strict_mode_stops_at_the_first_error() -> None:
    with pytest.raises(StrictModeError) as info:
        list(read_lines(_lines(MSG, b"{oops", MSG), strict=True))
    assert info.value.error.line == 2


def test_blank_lines_are_skipped_but_counted_in_line_numbers() -> None:
    parsed = list(read_lines([b"", json.dumps(MSG).encode(), b"   ", b"{bad"]))
    assert [p.line for p in parsed] == [2, 4]


def test_group_message_without_recipient_and_unknown_fields_kept() -> None:
    (parsed,) = list(read_lines([json.dumps({k: v for k, v in MSG.items() if k != "recipient_id"} | {"room": "r1"})]))
    event = parsed.event
    assert isinstance(event, MessageEvent) and event.recipient_id is None
    assert event.model_dump()["room"] == "r1"


def test_pdq_is_normalised_to_lower_case() -> None:
    (parsed,) = list(read_lines([json.dumps({"type": "media", "event_id": "m", "sender_id": "u", "pdq": "AB" * 32})]))
    assert isinstance(parsed.event, MediaEvent) and parsed.event.pdq == "ab" * 32


def test_oversized_text_is_truncated_for_detection() -> None:
    text = "a" * (MAX_TEXT_CHARS + 10)
    capped, truncated = text_for_detection(text)
    assert truncated and len(capped) == MAX_TEXT_CHARS
    assert text_for_detection("short") == ("short", False)


def test_account_without_event_id_is_valid() -> None:
    (parsed,) = list(read_lines([b'{"type": "account", "user_id": "u1"}']))
    assert isinstance(parsed.event, AccountEvent) and parsed.event.declared_age is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_reader_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    for parsed in read_lines([raw]):
        assert (parsed.event is None) != (parsed.error is None)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(list(MSG) + ["x"]), st.one_of(st.none(), st.integers(), st.text(max_size=20)), max_size=8))
def test_reader_never_raises_on_arbitrary_objects(obj: dict) -> None:
    for parsed in read_lines([json.dumps(obj)]):
        assert (parsed.event is None) != (parsed.error is None)
        if parsed.error:
            assert parsed.error.field and parsed.error.message
