"""PAN 2012 sexual predator identification: corpus reader and the official metrics.

The PAN 2012 corpus is an XML file of conversations::

    <conversations>
      <conversation id="...">
        <message line="1"><author>hash</author><time>03:20</time><text>...</text></message>
        ...

and a ground-truth file with one predator author id per line. The task ranks systems by
F0.5 of predator identification over the set of *authors* a system names as predators
(precision counts twice as much as recall: a false accusation is costly). This module turns the
corpus into trygg events so the engine can be measured the way the field measures, and computes
the figures from a set of named authors.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from trygg.events import MessageEvent

_EPOCH = datetime(2012, 1, 1, tzinfo=timezone.utc)


class Pan12Error(ValueError):
    """The file is not in the PAN 2012 layout; the message says where."""


@dataclass(frozen=True)
class Pan12Message:
    line: int
    author: str
    time: str
    text: str


@dataclass(frozen=True)
class Pan12Conversation:
    conversation_id: str
    messages: tuple[Pan12Message, ...]

    @property
    def authors(self) -> set[str]:
        return {m.author for m in self.messages}

    def events(self) -> list[MessageEvent]:
        """Messages as trygg events. Two authors → direct messages; more → a group (no recipient).

        PAN times are clock times without dates (``03:20``); events are given a synthetic clock
        of one minute per message so order is kept and no false date is invented.
        """
        authors = sorted(self.authors)
        out = []
        for i, m in enumerate(self.messages):
            recipient = None
            if len(authors) == 2:
                recipient = authors[1] if m.author == authors[0] else authors[0]
            out.append(
                MessageEvent(
                    type="message",
                    event_id=f"pan12-{self.conversation_id}-{i + 1}",
                    conversation_id=f"pan12-{self.conversation_id}",
                    sender_id=m.author,
                    recipient_id=recipient,
                    text=m.text,
                    sent_at=_EPOCH + timedelta(minutes=i),
                )
            )
        return out


def read_corpus(path: Path | str) -> Iterator[Pan12Conversation]:
    """Stream conversations from a PAN 2012 XML file (iterparse: the real corpus is ~100 MB).

    Messages with empty text are kept (text ``""``): an author who only joins still counts as an
    author in the task. A message without ``<author>`` is an error naming the conversation.
    """
    path = Path(path)
    try:
        context = ET.iterparse(path, events=("end",))
        for _event, element in context:
            if element.tag != "conversation":
                continue
            cid = element.get("id")
            if not cid:
                raise Pan12Error(f"{path}: a <conversation> has no id attribute")
            messages = []
            for number, message in enumerate(element.iter("message"), start=1):
                author = (message.findtext("author") or "").strip()
                if not author:
                    raise Pan12Error(f"{path}: conversation {cid}, message {number}: no <author>")
                line = message.get("line")
                messages.append(
                    Pan12Message(
                        int(line) if line and line.isdigit() else number,
                        author,
                        (message.findtext("time") or "").strip(),
                        message.findtext("text") or "",
                    )
                )
            messages.sort(key=lambda m: m.line)
            yield Pan12Conversation(cid, tuple(messages))
            element.clear()
    except ET.ParseError as exc:
        raise Pan12Error(f"{path}: not well-formed XML ({exc})") from None


def read_predators(path: Path | str) -> set[str]:
    """Ground truth: one predator author id per line (blank lines ignored)."""
    text = Path(path).read_text(encoding="utf-8")
    return {line.strip() for line in text.splitlines() if line.strip()}


def predator_identification(predicted: Iterable[str], truth: Iterable[str]) -> dict[str, float]:
    """The official PAN 2012 figures over sets of author ids: precision, recall, F0.5.

    Empty prediction → precision 0 (the task's convention: naming nobody finds nobody).
    """
    predicted, truth = set(predicted), set(truth)
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(truth) if truth else 0.0
    denom = 0.25 * precision + recall
    f05 = 1.25 * precision * recall / denom if denom else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f05": f05,
        "true_positives": tp,
        "predicted": len(predicted),
        "predators": len(truth),
    }


def evaluate_pan12(corpus: Path | str, predators: Path | str, engine: object | None = None) -> dict[str, object]:
    """Run the engine over a PAN 2012 corpus and score the authors it names as offenders.

    An author is "named" when a conversation is flagged and the engine's offender for it is that
    author — the PAN 2012 predator identification task. Conversations are processed one at a
    time and their state dropped after, so the ~100 MB test corpus fits in memory.
    """
    if engine is None:
        from trygg.compose import build_engine

        engine = build_engine()
    truth = read_predators(predators)
    named: set[str] = set()
    conversations = flagged = messages = 0
    for conversation in read_corpus(corpus):
        conversations += 1
        events = conversation.events()
        messages += len(events)
        for event in events:
            engine.process(event)  # type: ignore[attr-defined]
        if events:
            cid = events[0].conversation_id
            summary = engine.summary(cid)  # type: ignore[attr-defined]
            if summary["flagged"]:
                flagged += 1
                if summary["offender_id"]:
                    named.add(str(summary["offender_id"]))
            engine.conversations.pop(cid, None)  # type: ignore[attr-defined]
    return {
        "format": "pan12",
        "conversations": conversations,
        "messages": messages,
        "flagged_conversations": flagged,
        "predator_identification": predator_identification(named, truth),
    }
