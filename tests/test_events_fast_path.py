"""``parse_line`` validates JSON in one pass; it must read every line as the reference does.

The reference is ``json.loads`` then ``validate_python`` (what :func:`trygg.events.parse_event`
does with an already decoded object): same event, same fields, same extra fields.
"""

from __future__ import annotations

import json
import math

import pytest

from trygg.events import parse_event, parse_line

_LINES = [
    '{"type":"message","event_id":"e","conversation_id":"c","sender_id":"u","text":"hej 😀","sent_at":"2026-01-01T00:00:00Z"}',
    '{"type":"message","event_id":"e","conversation_id":"c","sender_id":"u","text":"a","text":"b"}',
    '{"type":"message","event_id":"e","conversation_id":"c","sender_id":"u","text":"a\\ud800b"}',
    '{"type":"message","event_id":"e","conversation_id":"c","sender_id":"u","text":"x\\u0000y","meta":{"k":[1,2.5,null]}}',
    '{"type":"account","user_id":"u","declared_age":15.0}',
    '{"type":"account","user_id":"u","declared_age":"15"}',
    '{"type":"account","user_id":"u","created_at":1700000000}',
    '{"type":"account","user_id":"u","x":1e400,"y":0.1,"z":123456789012345678901234567890}',
    '{"type":"account","user_id":"u","x":NaN}',
    '{"type":"media","event_id":"m","sender_id":"u","pdq":"' + "AB" * 32 + '"}',
]


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("raw", _LINES)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_parse_line_equals_the_reference(raw: str, as_bytes: bool) -> None:
    parsed = parse_line(raw.encode() if as_bytes else raw, 3)
    reference = parse_event(json.loads(raw), 3)
    assert parsed.error is None
    assert type(parsed.event) is type(reference)
    assert _same(parsed.event.__dict__, reference.__dict__)
    assert _same(parsed.event.__pydantic_extra__ or {}, reference.__pydantic_extra__ or {})
