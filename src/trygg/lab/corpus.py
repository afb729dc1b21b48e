"""The training corpus of the shipped model, assembled from ``../shared/data``.

Positives: Perverted-Justice conversations (real offenders, adult decoys posing as 12–15 year
olds), the first ``PJ_MAX_MESSAGES`` messages of each: early detection is what matters and it
keeps training within minutes. Negatives: NPS chat rooms (whole sessions and 100-post windows:
informal adult talk, flirting included), DailyDialog, and Swedish Tatoeba sentences stitched into
two-person dialogues. A share of benign dialogues gets declared ages (two teens, two adults, an
adult and a teen) so that ages alone never look like harm, and half get one to three everyday
lines with a surface cue (``CUE_LINES``) so that a single cue is not learnt as harm either.

The scenarios and the project's own written chats are **not** trained on: they are the
held-out measure of whether the model learnt grooming rather than these files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

import numpy as np

from trygg.events import AccountEvent, Event, MessageEvent
from trygg.lab.training import SEED, Replayed, replay

PJ_MAX_MESSAGES = 300
#: Messages per Perverted-Justice conversation the text stage learns from (keeps training fast;
#: the second stage still sees all ``PJ_MAX_MESSAGES``).
PJ_TEXT_MESSAGES = 100
NPS_WINDOW = 100
TATOEBA_DIALOGUES = 1500
#: Share of benign dialogues that get one to three everyday lines carrying a surface cue.
CUE_SHARE = 0.5

#: Everyday lines (written for trygg) that trip single signal families innocently: a parent,
#: a coach, a buyer, a friend planning a surprise. Injected into benign dialogues so that one cue,
#: even between an adult and a teen, is not learnt as grooming; what grooming adds is the
#: combination and the sexualisation aimed at a minor.
CUE_LINES = {
    "en": (
        "are you home alone tonight? dad is working late",
        "don't tell anyone, it's a surprise for mum",
        "send me a pic of the receipt please",
        "practice moved, meet at the field at 6",
        "I'll pay you back on cashapp tonight",
        "can you send a photo of your homework page?",
        "let's move this to discord, it's easier to play there",
        "add me on snapchat, my other app is broken",
        "which school does your cousin go to now?",
        "you look so grown up in your graduation photo",
        "happy birthday! there's a gift card in the envelope",
        "keep it secret until the party ok?",
        "where do you live now? I want to send you a postcard",
        "you're so smart, I'm proud of you",
        "can I pick you up from school at 3?",
        "I'll transfer the money for the bike via paypal",
        "what's your address for the delivery?",
        "you're really talented, keep drawing",
        "want to meet at the mall on saturday?",
        "just between us, I think the teacher is leaving",
    ),
    "sv": (
        "är du hemma ensam ikväll? pappa jobbar sent",
        "säg inget till nån, det är en överraskning till mamma",
        "kan du skicka en bild på kvittot?",
        "träningen är flyttad, vi ses på planen kl 18",
        "jag swishar dig ikväll",
        "kan du skicka en bild på läxsidan?",
        "vi tar det på discord istället, lättare att spela där",
        "adda mig på snap, min andra app strular",
        "vilken skola går din kusin på nu?",
        "du ser så vuxen ut på studentbilden",
        "grattis! det ligger ett presentkort i kuvertet",
        "håll det hemligt till festen okej?",
        "var bor du nu? jag vill skicka ett vykort",
        "du är så duktig, jag är stolt över dig",
        "kan jag hämta dig från skolan kl 15?",
        "jag skickar pengarna för cykeln via swish",
        "vilken adress ska leveransen till?",
        "du är verkligen begåvad, fortsätt teckna",
        "ska vi ses i köpcentret på lördag?",
        "mellan oss, jag tror att läraren slutar",
    ),
}
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)

#: Total training weight per source in the second stage (each source's rows share it equally).
SOURCE_WEIGHTS: dict[str, float] = {"pj": 1.0, "nps": 0.8, "dailydialog": 0.3, "tatoeba-sv": 0.3}


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


def with_cues(lines: Sequence[str], language: str, rng: np.random.Generator) -> list[str]:
    """Insert one to three everyday cue lines at random places (for ``CUE_SHARE`` of dialogues)."""
    lines = list(lines)
    if rng.random() >= CUE_SHARE:
        return lines
    cues = CUE_LINES[language]
    for _ in range(int(rng.integers(1, 4))):
        lines.insert(int(rng.integers(0, len(lines) + 1)), cues[int(rng.integers(0, len(cues)))])
    return lines


def tatoeba_dialogues(sentences: Sequence[str], count: int, rng: np.random.Generator) -> list[tuple[str, list[Event]]]:
    """Swedish sentences stitched into two-person dialogues of 6–16 lines (benign Swedish chat)."""
    order = rng.permutation(len(sentences))
    out, pos = [], 0
    for number in range(count):
        length = int(rng.integers(6, 17))
        if pos + length > len(order):
            break
        cid = f"tatoeba-{number + 1}"
        lines = with_cues([sentences[i] for i in order[pos : pos + length]], "sv", rng)
        out.append((cid, _dialogue(cid, lines)))
        pos += length
    return out


def shared_corpus(progress: Callable[[str], None] = lambda _msg: None) -> list[Replayed]:
    """Replay every training conversation of the shipped model (deterministic)."""
    from trygg.lab import datasets

    rng = np.random.default_rng(SEED)
    out: list[Replayed] = []
    progress("pj")
    for conv in datasets.pj():
        replayed = replay(conv.conversation_id, conv.events, conv.label, "pj", max_messages=PJ_MAX_MESSAGES)
        replayed.text_messages = PJ_TEXT_MESSAGES
        out.append(replayed)
    progress("nps")
    for conv in datasets.nps_chat():
        label = conv.label
        out.append(replay(conv.conversation_id, conv.events, label, "nps", group=conv.conversation_id))
        messages = conv.messages
        for start in range(0, len(messages) - NPS_WINDOW // 2, NPS_WINDOW):
            window = messages[start : start + NPS_WINDOW]
            replayed = replay(f"{conv.conversation_id}@{start}", window, label, "nps", group=conv.conversation_id)
            replayed.text_messages = 0  # its lines are already in the whole room
            out.append(replayed)
    progress("dailydialog")
    for conv in datasets.dailydialog():
        cid = conv.conversation_id
        messages = _dialogue(cid, with_cues([m.text for m in conv.messages], "en", rng))
        events = _with_ages(cid, [f"{cid}-a", f"{cid}-b"], rng) + messages
        out.append(replay(conv.conversation_id, events, conv.label, "dailydialog"))
    progress("tatoeba")
    for cid, events in tatoeba_dialogues(datasets.tatoeba_swedish(), TATOEBA_DIALOGUES, rng):
        users = [f"{cid}-a", f"{cid}-b"]
        label = {"conversation_id": cid, "label": "benign", "language": "sv"}
        out.append(replay(cid, _with_ages(cid, users, rng) + events, label, "tatoeba-sv"))
    return out
