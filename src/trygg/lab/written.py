"""The written corpus: hand-written conversations in a plain-text ``.chat`` format, and their
conversion to event format v1 and labels.

Public data sets have almost no Swedish grooming, no hard negatives (a grandmother swishing
money and asking for a photo) and no sextortion at all, so the project writes its own. Writers
need a format they can type and review (corpus/written/README.md describes it); evaluation and
training need events and labels. This module is the one place that turns the one into the
other, and it is strict: a conversation with an unknown speaker or a ``first_harmful`` past its
last message would silently measure the wrong thing, so every such problem is reported with
its file and line, and the valid conversations around it are still read.

Run ``python -m trygg.lab.written check DIR`` to validate and count, and
``python -m trygg.lab.written build DIR OUT_DIR`` to write ``events.jsonl`` and ``labels.jsonl``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

LABELS = ("grooming", "solicitation", "sextortion", "benign")
LANGUAGES = ("sv", "en", "de", "nl")
ROOMS = ("dm", "group")
SPLITS = ("dev", "locked")
#: The letter in a conversation id for each label: ``sv-g-017`` is Swedish grooming.
LABEL_LETTERS = {"grooming": "g", "solicitation": "s", "sextortion": "x", "benign": "b"}
#: Share of conversations held out as ``locked``: measured on, never tuned on.
LOCKED_SHARE = 0.30
#: Without a gap line, consecutive messages are this many seconds apart (inclusive range).
DEFAULT_SPACING_S = (30, 90)

_REQUIRED = ("label", "language", "hard_negative", "kind", "room", "users", "start")
_HARMFUL_ONLY = ("offender", "first_harmful")
_KEYS = _REQUIRED + _HARMFUL_ONLY
_CONVERSATION = re.compile(r"^#\s*conversation\s+(\S+)\s*$")
_ID = re.compile(r"^(?P<lang>[a-z]{2})-(?P<letter>[a-z])-(?P<number>\d{3,})$")
_SPEAKER = re.compile(r"^\w+$")
_KIND = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
_GAP = re.compile(r"^\[\+(\d+)([mhd])\]$")
_GAP_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_COMMENT = re.compile(r"\s+#.*$")
_WORD = re.compile(r"@?([^\W_]+(?:_[^\W_]+)*)")


@dataclass(frozen=True)
class WrittenError:
    """One problem in a ``.chat`` file: where it is and what is wrong."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class WrittenCorpusError(ValueError):
    """Raised by :func:`read_written` when any file has a problem; carries all of them."""

    def __init__(self, errors: Sequence[WrittenError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class WrittenMessage:
    speaker: str
    text: str
    sent_at: datetime
    line: int


@dataclass
class WrittenConversation:
    """One conversation as written, with the clock already applied to its messages."""

    id: str
    label: str
    language: str
    hard_negative: bool
    kind: str
    room: str
    users: dict[str, int | None]
    start: datetime
    offender: str | None = None
    first_harmful: int | None = None
    messages: list[WrittenMessage] = field(default_factory=list)
    path: Path = Path()
    line: int = 0

    @property
    def harmful(self) -> bool:
        return self.label != "benign"

    @property
    def split(self) -> str:
        return split_of(self.id)

    def user_id(self, speaker: str) -> str:
        """Users are per conversation: the engine keeps an age picture per user across the stream,
        and ``kid`` in one conversation is not ``kid`` in the next."""
        return f"{self.id}:{speaker}"


def split_of(conversation_id: str) -> str:
    """``locked`` or ``dev``, from the SHA-256 of the id alone: adding, removing or editing other
    conversations never moves one between splits, so ``locked`` stays untouched by tuning."""
    digest = hashlib.sha256(conversation_id.encode("utf-8")).digest()
    return "locked" if int.from_bytes(digest[:8], "big") / 2**64 < LOCKED_SHARE else "dev"


def _spacing(conversation_id: str, index: int) -> timedelta:
    """Deterministic 30-90 s between messages, so a rebuild gives byte-identical events."""
    digest = hashlib.sha256(f"{conversation_id}/{index}".encode("utf-8")).digest()
    low, high = DEFAULT_SPACING_S
    return timedelta(seconds=low + int.from_bytes(digest[:4], "big") % (high - low + 1))


def _ends_header(line: str) -> bool:
    """The header runs to ``---``; a blank line or the next conversation means it was left out."""
    return line == "---" or not line or bool(_CONVERSATION.match(line))


class _Parser:
    """Reads one file line by line; a problem in one conversation skips to the next one."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.errors: list[WrittenError] = []
        self.conversations: list[WrittenConversation] = []

    def error(self, line: int, message: str) -> None:
        self.errors.append(WrittenError(self.path, line, message))

    def parse(self) -> None:
        index = 0
        while index < len(self.lines):
            raw = self.lines[index].strip()
            number = index + 1
            match = _CONVERSATION.match(raw)
            if match:
                index = self._conversation(index, match.group(1))
                continue
            if raw and not raw.startswith("#"):
                self.error(number, f"expected '# conversation <id>', found {raw[:60]!r}")
            index += 1

    def _conversation(self, index: int, conversation_id: str) -> int:
        """Parse the conversation whose ``# conversation`` line is at ``index``; returns the index
        of the first line after it."""
        opened_at = index + 1
        errors_before = len(self.errors)
        end = index + 1
        while end < len(self.lines) and not _ends_header(self.lines[end].strip()):
            end += 1
        if end >= len(self.lines) or self.lines[end].strip() != "---":
            # Without the separator every message would read as a bad header line: one error says it.
            self.error(opened_at, f"conversation {conversation_id}: header has no '---' line")
            while end < len(self.lines) and not _CONVERSATION.match(self.lines[end].strip()):
                end += 1
            return end
        header: dict[str, tuple[str, int]] = {}
        for position in range(index + 1, end):
            raw = self.lines[position].strip()
            number = position + 1
            if raw.startswith("#"):
                continue
            key, sep, value = raw.partition(":")
            key = key.strip()
            value = _COMMENT.sub("", value).strip()
            if not sep:
                self.error(number, f"expected 'key: value' in the header, found {raw[:60]!r}")
            elif key not in _KEYS:
                self.error(number, f"unknown header key {key!r}; expected one of {', '.join(_KEYS)}")
            elif key in header:
                self.error(number, f"header key {key!r} given twice (first on line {header[key][1]})")
            else:
                header[key] = (value, number)
        conversation = self._header(conversation_id, opened_at, header)
        index = end + 1
        messages: list[tuple[str, str, int, timedelta | None]] = []
        pending_gap: tuple[timedelta, int] | None = None
        while index < len(self.lines) and self.lines[index].strip():
            raw = self.lines[index].strip()
            number = index + 1
            if _CONVERSATION.match(raw):
                break
            index += 1
            if raw.startswith("["):
                gap = _GAP.match(raw)
                if not gap:
                    self.error(number, f"bad gap syntax {raw[:30]!r}: expected [+Nm], [+Nh] or [+Nd]")
                elif int(gap.group(1)) == 0:
                    self.error(number, f"gap {raw} is zero; leave it out for the default spacing")
                elif not messages:
                    self.error(number, "gap before the first message; set 'start' instead")
                elif pending_gap is not None:
                    self.error(number, f"two gaps in a row (the other on line {pending_gap[1]}); write one")
                else:
                    pending_gap = (timedelta(**{_GAP_UNITS[gap.group(2)]: int(gap.group(1))}), number)
                continue
            speaker, sep, text = raw.partition(":")
            speaker, text = speaker.strip(), text.strip()
            if not sep or not _SPEAKER.match(speaker):
                self.error(number, f"expected 'speaker: text' or a gap like [+5m], found {raw[:60]!r}")
                continue
            if conversation is not None and speaker not in conversation.users:
                self.error(
                    number, f"unknown speaker {speaker!r}; users are {', '.join(conversation.users)}"
                )
                continue
            if not text:
                self.error(number, f"message from {speaker!r} has no text")
                continue
            messages.append((speaker, text, number, pending_gap[0] if pending_gap else None))
            pending_gap = None
        if pending_gap is not None:
            self.error(pending_gap[1], "gap after the last message; a gap applies before a message")
        if conversation is None:
            return index
        self._finish(conversation, messages)
        if len(self.errors) == errors_before:
            self.conversations.append(conversation)
        return index

    def _header(self, conversation_id: str, line: int, header: dict[str, tuple[str, int]]) -> WrittenConversation | None:
        """Validate the header fields; None when they cannot make a conversation."""
        ok = True
        for key in _REQUIRED:
            if key not in header:
                self.error(line, f"conversation {conversation_id}: header lacks {key!r}")
                ok = False
        if not ok:
            return None

        def value(key: str) -> str:
            return header[key][0]

        def where(key: str) -> int:
            return header[key][1]

        label, language, room, kind = value("label"), value("language"), value("room"), value("kind")
        if label not in LABELS:
            self.error(where("label"), f"label {label!r}: expected one of {', '.join(LABELS)}")
            ok = False
        if language not in LANGUAGES:
            self.error(where("language"), f"language {language!r}: expected one of {', '.join(LANGUAGES)}")
            ok = False
        if room not in ROOMS:
            self.error(where("room"), f"room {room!r}: expected dm or group")
            ok = False
        if not _KIND.match(kind):
            self.error(where("kind"), f"kind {kind!r}: expected a snake_case tag")
            ok = False
        hard_negative = value("hard_negative")
        if hard_negative not in ("true", "false"):
            self.error(where("hard_negative"), f"hard_negative {hard_negative!r}: expected true or false")
            ok = False
        elif hard_negative == "true" and label != "benign":
            self.error(where("hard_negative"), "hard_negative is true on a harmful conversation; only benign ones are hard negatives")
            ok = False
        ok &= self._check_id(conversation_id, line, label, language)
        users = self._users(value("users"), where("users"))
        if users is None:
            ok = False
        elif room == "dm" and len(users) != 2:
            self.error(where("users"), f"a dm room has exactly two users, not {len(users)}")
            ok = False
        elif room == "group" and len(users) < 3:
            self.error(where("users"), f"a group room has three or more users, not {len(users)}")
            ok = False
        try:
            start = datetime.strptime(value("start"), "%Y-%m-%dT%H:%M").replace(tzinfo=timezone.utc)
        except ValueError:
            self.error(where("start"), f"start {value('start')!r}: expected YYYY-MM-DDTHH:MM")
            ok = False
        offender: str | None = None
        first_harmful: int | None = None
        if label == "benign":
            for key in _HARMFUL_ONLY:
                if key in header:
                    self.error(where(key), f"{key!r} on a benign conversation; only harmful ones have it")
                    ok = False
        elif label in LABELS:
            if "offender" not in header:
                self.error(line, f"conversation {conversation_id}: harmful ({label}) but no 'offender'")
                ok = False
            else:
                offender = value("offender")
                if users is not None and offender not in users:
                    self.error(where("offender"), f"offender {offender!r} is not one of the users ({', '.join(users)})")
                    ok = False
            if "first_harmful" not in header:
                self.error(line, f"conversation {conversation_id}: harmful ({label}) but no 'first_harmful'")
                ok = False
            elif not value("first_harmful").isdigit() or int(value("first_harmful")) < 1:
                self.error(where("first_harmful"), f"first_harmful {value('first_harmful')!r}: expected a message number from 1")
                ok = False
            else:
                first_harmful = int(value("first_harmful"))
        if not ok or users is None:
            return None
        return WrittenConversation(
            id=conversation_id,
            label=label,
            language=language,
            hard_negative=hard_negative == "true",
            kind=kind,
            room=room,
            users=users,
            start=start,
            offender=offender,
            first_harmful=first_harmful,
            path=self.path,
            line=line,
        )

    def _check_id(self, conversation_id: str, line: int, label: str, language: str) -> bool:
        match = _ID.match(conversation_id)
        if not match:
            self.error(line, f"conversation id {conversation_id!r}: expected <lang>-<g|s|x|b>-NNN, e.g. sv-g-017")
            return False
        ok = True
        if language in LANGUAGES and match.group("lang") != language:
            self.error(line, f"conversation id {conversation_id!r} does not start with its language {language!r}")
            ok = False
        if label in LABELS and match.group("letter") != LABEL_LETTERS[label]:
            self.error(line, f"conversation id {conversation_id!r}: a {label} id has '-{LABEL_LETTERS[label]}-'")
            ok = False
        folder = self.path.parent.name
        if folder in LANGUAGES and language in LANGUAGES and folder != language:
            self.error(line, f"conversation {conversation_id} is language {language!r} but lies in folder {folder!r}")
            ok = False
        return ok

    def _users(self, raw: str, line: int) -> dict[str, int | None] | None:
        users: dict[str, int | None] = {}
        ok = True
        for item in raw.split(","):
            name, sep, age = (part.strip() for part in item.partition("="))
            if not sep or not _SPEAKER.match(name):
                self.error(line, f"users: expected 'name=age' or 'name=?', found {item.strip()!r}")
                ok = False
            elif name in users:
                self.error(line, f"users: {name!r} listed twice")
                ok = False
            elif age == "?":
                users[name] = None
            elif age.isdigit() and 0 <= int(age) <= 130:
                users[name] = int(age)
            else:
                self.error(line, f"users: age of {name!r} is {age!r}; expected a number 0-130 or ?")
                ok = False
        return users if ok else None

    def _finish(self, conversation: WrittenConversation, messages: list[tuple[str, str, int, timedelta | None]]) -> None:
        """Apply the clock and the checks that need the whole message list."""
        if not messages:
            self.error(conversation.line, f"conversation {conversation.id} has no messages")
            return
        clock = conversation.start
        for index, (speaker, text, number, gap) in enumerate(messages):
            if index:
                clock += gap if gap is not None else _spacing(conversation.id, index)
            conversation.messages.append(WrittenMessage(speaker, text, clock, number))
        spoken = {m.speaker for m in conversation.messages}
        for name in conversation.users:
            if name not in spoken:
                self.error(conversation.line, f"conversation {conversation.id}: user {name!r} never speaks")
        if conversation.first_harmful is not None and conversation.first_harmful > len(messages):
            self.error(
                conversation.line,
                f"conversation {conversation.id}: first_harmful {conversation.first_harmful} is out of range "
                f"(it has {len(messages)} messages)",
            )


def chat_files(root: Path) -> list[Path]:
    """Every ``.chat`` file under ``root`` (or ``root`` itself), in a stable order."""
    root = Path(root)
    return [root] if root.is_file() else sorted(root.rglob("*.chat"))


def load_written(root: Path | str) -> tuple[list[WrittenConversation], list[WrittenError]]:
    """The valid conversations under ``root`` and every problem found; never raises on content.

    A duplicate id drops both copies: which one is meant cannot be known."""
    conversations: list[WrittenConversation] = []
    errors: list[WrittenError] = []
    root = Path(root)
    files = chat_files(root)
    if not files:
        errors.append(WrittenError(root, 0, "no .chat files here"))
    for path in files:
        try:
            text = path.read_text(encoding="utf-8-sig")  # an editor's byte-order mark is not content
        except UnicodeDecodeError as exc:
            line = path.read_bytes()[: exc.start].count(b"\n") + 1
            errors.append(WrittenError(path, line, f"not valid UTF-8 (byte 0x{exc.object[exc.start]:02x})"))
            continue
        parser = _Parser(path, text)
        parser.parse()
        conversations.extend(parser.conversations)
        errors.extend(parser.errors)
    first_seen: dict[str, WrittenConversation] = {}
    duplicates: set[str] = set()
    for conversation in conversations:
        other = first_seen.setdefault(conversation.id, conversation)
        if other is not conversation:
            duplicates.add(conversation.id)
            errors.append(
                WrittenError(
                    conversation.path, conversation.line,
                    f"duplicate id {conversation.id} (also at {other.path}:{other.line})",
                )
            )
    return [c for c in conversations if c.id not in duplicates], errors


def read_written(root: Path | str) -> list[WrittenConversation]:
    """All conversations under ``root``; raises :class:`WrittenCorpusError` listing every problem.

    Training and evaluation must not run on a corpus with a silently dropped conversation, so
    this refuses where :func:`load_written` reports and goes on."""
    conversations, errors = load_written(root)
    if errors:
        raise WrittenCorpusError(errors)
    return conversations


def account_events(conversation: WrittenConversation) -> list[dict[str, Any]]:
    """Account events for the speakers with a declared age (an undeclared age is no event)."""
    return [
        {"type": "account", "user_id": conversation.user_id(name), "declared_age": age}
        for name, age in conversation.users.items()
        if age is not None
    ]


def mentioned(conversation: WrittenConversation, speaker: str, text: str) -> list[str]:
    """The other speakers a room message names: ``@name``, the speaker's name, or its first part
    ("kitkat" for ``kitkat_draws``), as whole words.

    Why: on a platform, "@kitkat check your dms" or a reply to kitkat's message reaches trygg as
    the event's ``mentions``; written chat spells the same address as the name in the text.
    """
    words = {w.casefold() for w in _WORD.findall(text)}
    out = []
    for other in conversation.users:
        if other == speaker:
            continue
        forms = {other.casefold()}
        first = re.split(r"[_\d]+", other.casefold())[0]
        if len(first) >= 3:
            forms.add(first)
        if words & forms:
            out.append(other)
    return out


def message_events(conversation: WrittenConversation, mentions: bool = False) -> list[dict[str, Any]]:
    """Message events ``<id>-1`` ... in order; a dm names the other speaker as recipient, a group
    room names none and, with ``mentions``, lists the speakers a message names (:func:`mentioned`)."""
    events = []
    for number, message in enumerate(conversation.messages, start=1):
        event: dict[str, Any] = {
            "type": "message",
            "event_id": f"{conversation.id}-{number}",
            "conversation_id": conversation.id,
            "sender_id": conversation.user_id(message.speaker),
        }
        if conversation.room == "dm":
            (other,) = (name for name in conversation.users if name != message.speaker)
            event["recipient_id"] = conversation.user_id(other)
        elif mentions and (named := mentioned(conversation, message.speaker, message.text)):
            event["mentions"] = [conversation.user_id(name) for name in named]
        event["text"] = message.text
        event["sent_at"] = message.sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        events.append(event)
    return events


def label_of(conversation: WrittenConversation) -> dict[str, Any]:
    """The conversation's line in the labels format, plus ``kind`` and ``split``."""
    return {
        "conversation_id": conversation.id,
        "label": conversation.label,
        "offender_id": conversation.user_id(conversation.offender) if conversation.offender else None,
        "first_harmful_event_id": f"{conversation.id}-{conversation.first_harmful}" if conversation.first_harmful else None,
        "language": conversation.language,
        "hard_negative": conversation.hard_negative,
        "kind": conversation.kind,
        "split": conversation.split,
    }


def to_events(conversation: WrittenConversation) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The conversation's events (accounts, then messages) as JSON-ready objects, and its label."""
    return account_events(conversation) + message_events(conversation), label_of(conversation)


def build(
    conversations: Sequence[WrittenConversation],
    out_dir: Path,
    split: str | None = None,
    languages: Sequence[str] | None = None,
    mentions: bool = False,
) -> tuple[int, int]:
    """Write ``events.jsonl`` (all account events, then the messages conversation by conversation)
    and ``labels.jsonl``; ``split`` keeps one split only, ``languages`` those languages only,
    ``mentions`` lists the speakers each room message names as its ``mentions`` (what a platform
    that sends its @mentions gives; off by default, as written chat carries none). Returns
    (events, conversations) written."""
    chosen = [
        c for c in conversations
        if (split is None or c.split == split) and (languages is None or c.language in languages)
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [e for c in chosen for e in account_events(c)] + [e for c in chosen for e in message_events(c, mentions)]
    (out_dir / "events.jsonl").write_text("".join(_json_line(e) for e in lines), encoding="utf-8")
    (out_dir / "labels.jsonl").write_text("".join(_json_line(label_of(c)) for c in chosen), encoding="utf-8")
    return len(lines), len(chosen)


def _json_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def counts(conversations: Sequence[WrittenConversation]) -> dict[str, Any]:
    """Counts per language, label, split and kind, and hard negatives: what ``check`` prints."""
    by: dict[str, Counter[str]] = {name: Counter() for name in ("language", "label", "split", "language_label", "language_split", "kind")}
    for c in conversations:
        by["language"][c.language] += 1
        by["label"][c.label] += 1
        by["split"][c.split] += 1
        by["language_label"][f"{c.language}/{c.label}"] += 1
        by["language_split"][f"{c.language}/{c.split}"] += 1
        by["kind"][c.kind] += 1
    harmful = sum(c.harmful for c in conversations)
    return {
        "conversations": len(conversations),
        "messages": sum(len(c.messages) for c in conversations),
        "harmful": harmful,
        "benign": len(conversations) - harmful,
        "hard_negatives": sum(c.hard_negative for c in conversations),
        "hard_negatives_by_language": dict(sorted(Counter(c.language for c in conversations if c.hard_negative).items())),
        **{f"by_{name}": dict(sorted(counter.items())) for name, counter in by.items()},
    }


def parse_languages(raw: str) -> tuple[str, ...]:
    """``"de,nl"`` as ``("de", "nl")``; a code the corpus does not have is an error naming it."""
    codes = tuple(code.strip() for code in raw.split(",") if code.strip())
    unknown = [code for code in codes if code not in LANGUAGES]
    if not codes or unknown:
        raise argparse.ArgumentTypeError(f"languages {raw!r}: expected a comma-separated list of {', '.join(LANGUAGES)}")
    return codes


def _print_counts(summary: dict[str, Any], out: Any) -> None:
    print(
        f"conversations {summary['conversations']}, messages {summary['messages']}, harmful {summary['harmful']}, "
        f"benign {summary['benign']}, hard negatives {summary['hard_negatives']}",
        file=out,
    )
    for name in ("language", "label", "split", "language_label", "language_split"):
        cells = ", ".join(f"{key} {value}" for key, value in summary[f"by_{name}"].items())
        print(f"  by {name.replace('_', '/')}: {cells}", file=out)
    cells = ", ".join(f"{key} {value}" for key, value in summary["hard_negatives_by_language"].items()) or "none"
    print(f"  hard negatives by language: {cells}", file=out)


def _report_errors(errors: Sequence[WrittenError]) -> None:
    for error in errors:
        print(str(error), file=sys.stderr)
    print(f"{len(errors)} problem(s)", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trygg.lab.written", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate every .chat file and print counts")
    check.add_argument("dir", type=Path)
    check.add_argument("--json", action="store_true", help="print the counts as JSON")
    make = commands.add_parser("build", help="write events.jsonl and labels.jsonl")
    make.add_argument("dir", type=Path)
    make.add_argument("out_dir", type=Path)
    make.add_argument("--split", choices=SPLITS, help="write one split only")
    make.add_argument("--languages", type=parse_languages, help=f"comma-separated, of {', '.join(LANGUAGES)}: write these only")
    make.add_argument("--mentions", action="store_true", help="room messages list the speakers they name as mentions")
    args = parser.parse_args(argv)

    conversations, errors = load_written(args.dir)
    if args.command == "check":
        if args.json:
            print(json.dumps(counts(conversations), indent=2, ensure_ascii=False))
        else:
            _print_counts(counts(conversations), sys.stdout)
        if errors:
            _report_errors(errors)
            return 1
        return 0
    if errors:
        _report_errors(errors)
        print("nothing written: fix the problems first", file=sys.stderr)
        return 1
    events, written = build(conversations, args.out_dir, args.split, args.languages, args.mentions)
    print(f"wrote {events} events and {written} labels to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
