"""Event format v1: pydantic models and a JSON Lines reader that never loses valid lines.

Platforms send what happens as events. A bad line must not cost the good lines around it,
so the reader reports each invalid line with its line number and the offending field and
carries on (unless the caller asks for ``strict``). Unknown fields are kept (``extra="allow"``)
because platforms attach their own metadata and trygg must round-trip it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

#: Longest text that detectors look at; longer texts are truncated with a warning.
MAX_TEXT_CHARS = 64 * 1024
#: Longest JSON line the reader accepts at all (base64 media may be large, but not unbounded).
MAX_LINE_BYTES = 16 * 1024 * 1024
#: Most users one message may mention (a room's @everyone is not a list of mentions).
MAX_MENTIONS = 32


def no_nul(value: str) -> str:
    """Refuse a NUL character: PostgreSQL keeps none in a text column, so an identifier holding
    one could never be stored or looked up (and one such event would stop a whole scan there)."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (\\u0000)")
    return value


#: An identifier (of an event, user, conversation ...): 1 to 256 characters, no NUL.
Identifier = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(no_nul)]
#: A short name (a method, a reason, a source): 1 to 64 characters, no NUL.
Name = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(no_nul)]


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, str_strip_whitespace=False)


class _IdentifiedEvent(_EventBase):
    event_id: Identifier


class AccountEvent(_EventBase):
    """A user's account facts; the declared age is a claim, not a proof."""

    type: Literal["account"]
    user_id: Identifier
    declared_age: Annotated[int, Field(ge=0, le=130)] | None = None
    #: A declared birth date; when given, the declared age is computed from it.
    birth_date: date | None = None
    #: The platform's own age estimate (facial or behavioural estimation), v1.1; weaker than a
    #: declared age in the age picture.
    estimated_age: Annotated[int, Field(ge=0, le=130)] | None = None
    created_at: datetime | None = None
    country: Annotated[str, Field(min_length=2, max_length=2)] | None = None


class MessageEvent(_IdentifiedEvent):
    """A chat message. ``recipient_id`` is absent in group conversations."""

    type: Literal["message"]
    conversation_id: Identifier
    sender_id: Identifier
    recipient_id: Identifier | None = None
    text: str
    sent_at: datetime | None = None
    #: Users the message is addressed to in a room: the platform's @mentions and the author of
    #: the message it replies to (v1.1). In a room it is how the engine knows whom a sender
    #: singles out; in a one-to-one chat the recipient already says so.
    mentions: Annotated[tuple[Identifier, ...], Field(max_length=MAX_MENTIONS)] = ()


def addressee_of(event: MessageEvent) -> str | None:
    """Whom a message is written to: the recipient one-to-one; in a room, the one other user it
    mentions (a message mentioning several users, or only its sender, is to nobody in particular)."""
    if event.recipient_id is not None:
        return event.recipient_id
    mentions = event.mentions
    return mentions[0] if len(mentions) == 1 and mentions[0] != event.sender_id else None


class MediaEvent(_IdentifiedEvent):
    """An image or video, given as a path, base64 ``data`` or a precomputed ``pdq`` hash."""

    type: Literal["media"]
    conversation_id: Identifier | None = None
    sender_id: Identifier
    recipient_id: Identifier | None = None
    media_type: Literal["image", "video"] = "image"
    path: str | None = None
    data: str | None = None
    pdq: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None
    sent_at: datetime | None = None

    @field_validator("pdq")
    @classmethod
    def _lower_pdq(cls, value: str | None) -> str | None:
        return value.lower() if value else value

    @model_validator(mode="after")
    def _needs_content(self) -> "MediaEvent":
        if not (self.path or self.data or self.pdq):
            raise ValueError("media event needs one of 'path', 'data' or 'pdq'")
        return self


class ContactRequestEvent(_IdentifiedEvent):
    type: Literal["contact_request"]
    sender_id: Identifier
    recipient_id: Identifier
    surface: Literal["dm", "follow", "friend", "group_add"] = "dm"
    sent_at: datetime | None = None


class AgeProofEvent(_IdentifiedEvent):
    type: Literal["age_proof"]
    user_id: Identifier
    method: Name
    payload: str
    nonce: str | None = None


class AdRequestEvent(_IdentifiedEvent):
    type: Literal["ad_request"]
    user_id: Identifier
    ad_id: Identifier
    categories: list[str] = Field(default_factory=list)
    targeting: list[str] = Field(default_factory=list)
    #: The ad's content rating label (checked against the policy's [content_ratings]).
    rating: Name | None = None


class AgeEstimateEvent(_IdentifiedEvent):
    """An age estimate from a provider (a vendor's facial estimation, an OS age range signal)."""

    type: Literal["age_estimate"]
    user_id: Identifier
    method: Name
    age_low: Annotated[int, Field(ge=0, le=130)]
    #: Absent for an open range ("18 or over").
    age_high: Annotated[int, Field(ge=0, le=130)] | None = None
    #: IEEE 2089.1 level; absent: the policy's level for the method.
    assurance: Literal["asserted", "standard", "enhanced", "strict"] | None = None
    estimated_at: datetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "AgeEstimateEvent":
        if self.age_high is not None and self.age_high < self.age_low:
            raise ValueError("age_high must be >= age_low")
        return self


class ConnectionEvent(_IdentifiedEvent):
    """Two users became connected (a request accepted) or stopped being connected."""

    type: Literal["connection"]
    user_id: Identifier
    other_id: Identifier
    state: Literal["accepted", "removed"] = "accepted"
    sent_at: datetime | None = None


class BlockEvent(_IdentifiedEvent):
    """A user blocked another (blocks by minors count against an adult)."""

    type: Literal["block"]
    blocker_id: Identifier
    blocked_id: Identifier
    sent_at: datetime | None = None


class ReportEvent(_IdentifiedEvent):
    type: Literal["report"]
    reporter_id: Identifier
    reported_id: Identifier
    conversation_id: Identifier | None = None
    reason: Name


class RelationshipEvent(_IdentifiedEvent):
    """What the platform knows about two users (v1.1): ``user_id`` is ``other_id``'s
    ``relationship`` (a parent, a family-pairing link, ...); ``ended`` removes the link."""

    type: Literal["relationship"]
    user_id: Identifier
    other_id: Identifier
    relationship: Literal["parent", "guardian", "family", "family_pairing", "teacher", "coach", "mutual_friends"]
    ended: bool = False
    source: Name | None = None
    sent_at: datetime | None = None

    @model_validator(mode="after")
    def _two_users(self) -> "RelationshipEvent":
        if self.user_id == self.other_id:
            raise ValueError("a relationship needs two different users ('user_id' equals 'other_id')")
        return self


Event = Annotated[
    Union[
        AccountEvent,
        MessageEvent,
        MediaEvent,
        ContactRequestEvent,
        AgeProofEvent,
        AdRequestEvent,
        ReportEvent,
        AgeEstimateEvent,
        ConnectionEvent,
        BlockEvent,
        RelationshipEvent,
    ],
    Field(discriminator="type"),
]
EVENT_TYPES = (
    "account",
    "message",
    "media",
    "contact_request",
    "age_proof",
    "ad_request",
    "report",
    "age_estimate",
    "connection",
    "block",
    "relationship",
)
_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


@dataclass(frozen=True)
class EventError:
    """Why one input line was rejected: its number (1-based), the field at fault, and a message."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass(slots=True)
class ParsedLine:
    """One line of input: either an event or the error that rejected it.

    Not frozen: one is made per input line, and a frozen dataclass's construction costs about
    as much as a third of the line's validation."""

    line: int
    event: Event | None = None
    error: EventError | None = None


class StrictModeError(ValueError):
    """Raised by the reader in strict mode at the first invalid line."""

    def __init__(self, error: EventError) -> None:
        super().__init__(str(error))
        self.error = error


def parse_event(obj: object, line: int = 0) -> Event:
    """Validate one decoded JSON object as an event; raises :class:`StrictModeError` on failure."""
    try:
        return _EVENT_ADAPTER.validate_python(obj)
    except ValidationError as exc:
        raise StrictModeError(_first_error(exc, obj, line)) from None


def _first_error(exc: ValidationError, obj: object, line: int) -> EventError:
    if not isinstance(obj, dict):
        return EventError(line, "<line>", "expected a JSON object")
    if "type" not in obj:
        return EventError(line, "type", "missing; expected one of " + ", ".join(EVENT_TYPES))
    if obj.get("type") not in EVENT_TYPES:
        return EventError(
            line, "type", f"unknown event type {obj.get('type')!r}; expected one of " + ", ".join(EVENT_TYPES)
        )
    err = exc.errors()[0]
    loc = [str(part) for part in err["loc"]]
    # The discriminator adds the type name as the first location element; drop it.
    if loc and loc[0] == obj.get("type"):
        loc = loc[1:]
    field = ".".join(loc) or "<event>"
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return EventError(line, field, message)


def parse_line(raw: bytes | str, line: int) -> ParsedLine:
    """Decode and validate one JSON line; never raises."""
    if isinstance(raw, bytes) and len(raw) > MAX_LINE_BYTES:
        return ParsedLine(line, error=EventError(line, "<line>", f"line is {len(raw)} bytes; limit {MAX_LINE_BYTES}"))
    try:
        # Fast path: pydantic parses and validates the JSON in one pass (a third of the cost of
        # json.loads + validate_python), from bytes as read (a quarter cheaper than from str; it
        # rejects invalid UTF-8). Any failure, including JSON that only Python's decoder accepts
        # (NaN, lone surrogates), goes the reference way below, which names the error.
        return ParsedLine(line, event=_EVENT_ADAPTER.validate_json(raw))
    except ValidationError:
        pass
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return ParsedLine(
                line, error=EventError(line, "<line>", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})")
            )
    else:
        text = raw
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return ParsedLine(line, error=EventError(line, "<line>", f"invalid JSON: {exc.msg} at column {exc.colno}"))
    try:
        return ParsedLine(line, event=parse_event(obj, line))
    except StrictModeError as exc:
        return ParsedLine(line, error=exc.error)


def read_lines(lines: Iterable[bytes | str], strict: bool = False, start_line: int = 1) -> Iterator[ParsedLine]:
    """Parse JSON Lines; blank lines are ignored. In ``strict`` mode the first error raises."""
    for number, raw in enumerate(lines, start=start_line):
        stripped = raw.strip()
        if not stripped:
            continue
        parsed = parse_line(stripped, number)
        if parsed.error is not None and strict:
            raise StrictModeError(parsed.error)
        yield parsed


def read_events(path: str | Path, strict: bool = False) -> Iterator[ParsedLine]:
    """Read a JSON Lines file of events as bytes so that non-UTF-8 lines get a precise error."""
    with open(path, "rb") as handle:
        yield from read_lines(handle, strict=strict)


def event_field(event: Event, name: str) -> Any:
    """A declared field of any event type, or None where that type has no such field.

    ``getattr(event, name, None)`` does the same but, on models that keep unknown fields,
    a missing name costs an exception inside pydantic: measurable at 10,000 events a second.
    """
    return event.__dict__.get(name)


def text_for_detection(text: str) -> tuple[str, bool]:
    """Cap a text at :data:`MAX_TEXT_CHARS`; returns the text and whether it was truncated."""
    if len(text) <= MAX_TEXT_CHARS:
        return text, False
    return text[:MAX_TEXT_CHARS], True
