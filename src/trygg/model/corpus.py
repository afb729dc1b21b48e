"""The training corpus of the shipped model, assembled from ``../shared/data``.

Positives: Perverted-Justice conversations (real offenders, adult decoys posing as 12–15 year
olds), the first ``PJ_MAX_MESSAGES`` messages of each: early detection is what matters and it
keeps training within minutes. Negatives: NPS chat rooms (whole sessions and 100-post windows:
informal adult talk, flirting included), DailyDialog, and Swedish Tatoeba sentences stitched into
two-person dialogues. A share of benign dialogues gets declared ages (two teens, two adults, an
adult and a teen) so that ages alone never look like harm.

The scenarios and the project's own written chats are **not** trained on: they are the
held-out measure of whether the model learnt grooming rather than these files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

import numpy as np

from trygg.events import AccountEvent, Event, MessageEvent
from trygg.model.training import SEED, Replayed, replay

PJ_MAX_MESSAGES = 300
NPS_WINDOW = 100
TATOEBA_DIALOGUES = 1500
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)

#: Total training weight per source in the second stage (each source's rows share it equally).
SOURCE_WEIGHTS: dict[str, float] = {"pj": 1.0, "nps": 0.4, "dailydialog": 0.3, "tatoeba-sv": 0.3}


def _with_ages(cid: str, users: Sequence[str], rng: np.random.Generator) -> list[Event]:
    """Declared ages for a quarter each: two teens, two adults, adult + teen, none."""
    kind = int(rng.integers(0, 4))
    if kind == 3:
        return []
    teen = lambda: int(rng.integers(12, 18))  # noqa: E731
    adult = lambda: int(rng.integers(19, 60))  # noqa: E731
    ages = {0: (teen(), teen()), 1: (adult(), adult()), 2: (adult(), teen())}[kind]
    if rng.random() < 0.5:
        ages = ages[::-1]
    return [AccountEvent(type="account", user_id=u, declared_age=a) for u, a in zip(users, ages)]


def _dialogue(cid: str, lines: Sequence[str]) -> list[Event]:
    users = (f"{cid}-a", f"{cid}-b")
    return [
        MessageEvent(
            type="message",
            event_id=f"{cid}-{i + 1}",
            conversation_id=cid,
            sender_id=users[i % 2],
            recipient_id=users[(i + 1) % 2],
            text=text,
            sent_at=_EPOCH + timedelta(minutes=i),
        )
        for i, text in enumerate(lines)
    ]


def tatoeba_dialogues(sentences: Sequence[str], count: int, rng: np.random.Generator) -> list[tuple[str, list[Event]]]:
    """Swedish sentences stitched into two-person dialogues of 6–16 lines (benign Swedish chat)."""
    order = rng.permutation(len(sentences))
    out, pos = [], 0
    for number in range(count):
        length = int(rng.integers(6, 17))
        if pos + length > len(order):
            break
        cid = f"tatoeba-{number + 1}"
        out.append((cid, _dialogue(cid, [sentences[i] for i in order[pos : pos + length]])))
        pos += length
    return out


def shared_corpus(progress: Callable[[str], None] = lambda _msg: None) -> list[Replayed]:
    """Replay every training conversation of the shipped model (deterministic)."""
    from trygg import datasets

    rng = np.random.default_rng(SEED)
    out: list[Replayed] = []
    progress("pj")
    for conv in datasets.pj():
        out.append(replay(conv.conversation_id, conv.events, conv.label, "pj", max_messages=PJ_MAX_MESSAGES))
    progress("nps")
    for conv in datasets.nps_chat():
        label = conv.label
        out.append(replay(conv.conversation_id, conv.events, label, "nps", group=conv.conversation_id))
        messages = conv.messages
        for start in range(0, len(messages) - NPS_WINDOW // 2, NPS_WINDOW):
            window = messages[start : start + NPS_WINDOW]
            out.append(replay(f"{conv.conversation_id}@{start}", window, label, "nps", group=conv.conversation_id))
    progress("dailydialog")
    for conv in datasets.dailydialog():
        users = sorted({m.sender_id for m in conv.messages})
        events = _with_ages(conv.conversation_id, users, rng) + list(conv.messages)
        out.append(replay(conv.conversation_id, events, conv.label, "dailydialog"))
    progress("tatoeba")
    for cid, events in tatoeba_dialogues(datasets.tatoeba_swedish(), TATOEBA_DIALOGUES, rng):
        users = [f"{cid}-a", f"{cid}-b"]
        label = {"conversation_id": cid, "label": "benign", "language": "sv"}
        out.append(replay(cid, _with_ages(cid, users, rng) + events, label, "tatoeba-sv"))
    return out
