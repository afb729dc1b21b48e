"""Loaders that turn the public data sets in ``../shared/data`` into trygg events and labels.

The data sets come in their own layouts (Perverted-Justice split by speaker, DailyDialog as
``__eou__``-separated lines, NPS Chat as XML). Evaluation, tuning and training all need the same
thing from them: conversations in event format v1 with a label in the labels format, so they are
converted in one place. Nothing here is shipped data: the files are read from the shared folder
at run time and never copied into the project.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from trygg.events import AccountEvent, Event, MessageEvent, read_events

#: Synthetic clock for data sets without timestamps: one message a minute from this instant.
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass
class LabelledConversation:
    """One conversation's events (account lines first) and its label in the labels format."""

    conversation_id: str
    events: list[Event]
    label: dict[str, object] = field(default_factory=dict)

    @property
    def harmful(self) -> bool:
        return self.label.get("label", "benign") != "benign"

    @property
    def messages(self) -> list[MessageEvent]:
        return [e for e in self.events if isinstance(e, MessageEvent)]


class DataMissing(FileNotFoundError):
    """The shared data folder (or one data set in it) is not on this machine."""


def lines_from(lines: list[str], start: int, target_chars: int) -> list[str]:
    """Consecutive lines from ``start`` until they hold ``target_chars`` characters (a stretch
    of chat for training or a transcript; the last line is kept whole)."""
    out: list[str] = []
    size = 0
    for line in lines[start:]:
        out.append(line)
        size += len(line) + 1
        if size >= target_chars:
            break
    return out


def shared_data_dir() -> Path | None:
    """``$TRYGG_SHARED_DATA``, else ``../shared/data`` beside the checkout; None when absent."""
    candidates = []
    if os.environ.get("TRYGG_SHARED_DATA"):
        candidates.append(Path(os.environ["TRYGG_SHARED_DATA"]))
    here = Path(__file__).resolve()
    candidates += [parent.parent / "shared" / "data" for parent in here.parents[:4]]
    candidates.append(Path.cwd().parent / "shared" / "data")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def _root(root: Path | str | None, *parts: str) -> Path:
    base = Path(root) if root is not None else shared_data_dir()
    if base is None:
        raise DataMissing("../shared/data is not present (set TRYGG_SHARED_DATA to its path)")
    path = base.joinpath(*parts)
    if not path.exists():
        raise DataMissing(f"{path} is not present")
    return path


def _message(cid: str, index: int, sender: str, recipient: str | None, text: str) -> MessageEvent:
    return MessageEvent(
        type="message",
        event_id=f"{cid}-{index}",
        conversation_id=cid,
        sender_id=sender,
        recipient_id=recipient,
        text=text,
        sent_at=_EPOCH + timedelta(minutes=index),
    )


def _benign_label(cid: str, language: str) -> dict[str, object]:
    return {
        "conversation_id": cid,
        "label": "benign",
        "offender_id": None,
        "first_harmful_event_id": None,
        "language": language,
        "hard_negative": False,
    }


def scenarios(root: Path | str | None = None) -> list[LabelledConversation]:
    """The project's labelled Swedish/English scenarios, events grouped by conversation."""
    folder = _root(root, "scenarios")
    labels = {}
    for line in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            label = json.loads(line)
            labels[label["conversation_id"]] = label
    accounts: dict[str, AccountEvent] = {}
    grouped: dict[str, list[Event]] = {cid: [] for cid in labels}
    for parsed in read_events(folder / "events.jsonl", strict=True):
        event = parsed.event
        if isinstance(event, AccountEvent):
            accounts[event.user_id] = event
        elif isinstance(event, MessageEvent):
            grouped.setdefault(event.conversation_id, []).append(event)
    out = []
    for cid, messages in grouped.items():
        users = {m.sender_id for m in messages if isinstance(m, MessageEvent)}
        users |= {m.recipient_id for m in messages if isinstance(m, MessageEvent) and m.recipient_id}
        account_events: list[Event] = [accounts[u] for u in sorted(users) if u in accounts]
        out.append(LabelledConversation(cid, account_events + messages, labels.get(cid, _benign_label(cid, "en"))))
    return out


def _read_lines(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _officer_files(folder: Path, name: str) -> list[Path]:
    """The decoy side of one offender: one file, or several numbered ones (``_1``, ``_2``...)."""
    single = folder / f"officer_{name}.txt"
    if single.exists():
        return [single]
    numbered = [p for p in folder.glob(f"officer_{name}_*.txt") if p.stem.rsplit("_", 1)[-1].isdigit()]
    return sorted(numbered, key=lambda p: int(p.stem.rsplit("_", 1)[-1]))


def pj(root: Path | str | None = None, limit: int | None = None) -> list[LabelledConversation]:
    """Perverted-Justice conversations replayed with offender and decoy lines alternating.

    The corpus keeps each speaker's lines apart (turns are not interleaved), so the replay
    alternates them in order, offender first, and appends the rest of the longer side. Where
    one offender talked to several decoy accounts, their files are read in order as one side. The
    offender is ``pj-<name>-offender``; the decoy (an adult posing as a 12-15 year old) is
    ``pj-<name>-decoy``. The first harmful event is not annotated in the corpus (None).
    """
    folder = _root(root, "pj")
    out = []
    for predator_file in sorted((folder / "predators").glob("predator_*.txt")):
        name = predator_file.stem[len("predator_") :]
        officer_files = _officer_files(folder / "officers", name)
        if not officer_files:
            continue
        cid = f"pj-{name}"
        offender, decoy = f"{cid}-offender", f"{cid}-decoy"
        offender_lines = _read_lines(predator_file)
        decoy_lines = [line for path in officer_files for line in _read_lines(path)]
        events: list[Event] = []
        for turn in range(max(len(offender_lines), len(decoy_lines))):
            if turn < len(offender_lines):
                events.append(_message(cid, len(events) + 1, offender, decoy, offender_lines[turn]))
            if turn < len(decoy_lines):
                events.append(_message(cid, len(events) + 1, decoy, offender, decoy_lines[turn]))
        label = {
            "conversation_id": cid,
            "label": "grooming",
            "offender_id": offender,
            "first_harmful_event_id": None,
            "language": "en",
            "hard_negative": False,
        }
        out.append(LabelledConversation(cid, events, label))
        if limit is not None and len(out) >= limit:
            break
    return out


def dailydialog(root: Path | str | None = None) -> list[LabelledConversation]:
    """DailyDialog test dialogues: two speakers alternating, every dialogue benign."""
    path = _root(root, "benign", "dailydialog", "dialogues_test.txt")
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        turns = [turn.strip() for turn in line.split("__eou__") if turn.strip()]
        if not turns:
            continue
        cid = f"dd-{number}"
        speakers = (f"{cid}-a", f"{cid}-b")
        events: list[Event] = [
            _message(cid, i + 1, speakers[i % 2], speakers[(i + 1) % 2], text) for i, text in enumerate(turns)
        ]
        out.append(LabelledConversation(cid, events, _benign_label(cid, "en")))
    return out


def nps_chat(root: Path | str | None = None) -> list[LabelledConversation]:
    """NPS Chat sessions as group conversations (no recipient); JOIN/PART system posts dropped."""
    folder = _root(root, "benign", "nps-chat")
    out = []
    for path in sorted(folder.glob("*.xml")):
        cid = f"nps-{path.stem}"
        events: list[Event] = []
        for post in ET.parse(path).getroot().iter("Post"):
            if post.get("class") == "System":
                continue
            text = (post.text or "").strip()
            if not text:
                continue
            events.append(_message(cid, len(events) + 1, f"nps-{post.get('user', 'unknown')}", None, text))
        out.append(LabelledConversation(cid, events, _benign_label(cid, "en")))
    return out


def tatoeba_swedish(root: Path | str | None = None) -> list[str]:
    """Swedish sentences of the Tatoeba Swedish-English pairs (second column)."""
    path = _root(root, "benign", "tatoeba-swe-eng", "swe-eng", "swe.txt")
    sentences = []
    for line in path.read_text(encoding="utf-8").splitlines():
        columns = line.split("\t")
        if len(columns) >= 2 and columns[1].strip():
            sentences.append(columns[1].strip())
    return sentences
