"""Whom a life-stage cue in a message is about: the speaker, or the one they write to.

Why: the implied-age cues (:mod:`trygg.age.picture`) were read as the speaker's own, but an
adult who writes "I can pick you up after fritids" or "are you still in middle school?" names
the child's school, not their own. Taken as the speaker's, such a cue made the adult look like a
child, and a child's tactics are weighed lightly (``trygg.conversation.risk``), so the very
words that show an adult knows a child's routine hid the adult.

The rule is grammatical and the same in every language: the nearest personal pronoun or
possessive before the cue in its sentence (or inside the cue: "my middle school") says whose it
is. A second person makes the cue the recipient's (an *ascribed* age, weaker than their own
words); a first person or none leaves it the speaker's, as before. A cue in a question is
neither's: "are you in year 6?" asks, it does not know. The pronouns come from each language
pack's ``[pack] first_person`` / ``second_person`` lists.
"""

from __future__ import annotations

import re
from dataclasses import replace
from enum import Enum
from typing import Collection

from trygg.lang.pack import load_pack
from trygg.signals.base import Signal

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_SENTENCE_END = re.compile(r"[.!?\n]")


class Whose(Enum):
    """Whom a cue is about."""

    SPEAKER = "speaker"
    ADDRESSEE = "addressee"
    ASKED = "asked"


def whose_cue(text: str, span: tuple[int, int] | None, language: str | None) -> Whose:
    """Whose age a cue at ``span`` of ``text`` (the original message) speaks of, by the
    pronouns of ``language``'s pack; :attr:`Whose.SPEAKER` when the pack lists none."""
    return _nearest_person(text, span, language) or Whose.SPEAKER


def _nearest_person(text: str, span: tuple[int, int] | None, language: str | None) -> Whose | None:
    """:attr:`Whose.ASKED` for a cue in a question, else the person of the nearest pronoun
    before the cue in its sentence (or inside it); ``None`` when the sentence has none."""
    if span is None or not language:
        return None
    try:
        pack = load_pack(language)
    except ValueError:
        return None
    start, end = span
    sentence_start = max(text.rfind(mark, 0, start) for mark in ".!?\n") + 1
    after = _SENTENCE_END.search(text, end)
    ends_in_question = after.group() == "?" if after is not None else text.rstrip().endswith("?")
    if ends_in_question:
        return Whose.ASKED
    inside = [w.casefold() for w in _WORD.findall(text[start:end])]
    before = [w.casefold() for w in _WORD.findall(text[sentence_start:start])]
    for word in [*inside, *reversed(before)]:
        if word in pack.first_person:
            return Whose.SPEAKER
        if word in pack.second_person:
            return Whose.ADDRESSEE
    return None


def drop_heard_ages(signals: list[Signal], text: str, heard: Collection[int]) -> list[Signal]:
    """The message's signals without the stated ages that are not the speaker's own.

    Why: "wow 9 år och så duktig!" right after the child wrote "jag är 9" is the adult echoing
    the child's age, and "du är ju 12" is about the one written to; taken as the speaker's own,
    either made an adult look like a child and shrank their tactics. A stated age is dropped
    when the nearest pronoun before it is of the second person, or when there is none and the
    number is one the others in the conversation stated (``heard``). An age with "I" or "we"
    before it stays the speaker's, whatever the others said: "me too, 14" is a claim.
    """
    out: list[Signal] = []
    for signal in signals:
        if signal.name == "age_disclosure":
            whose = _nearest_person(text, signal.span, signal.language)
            if whose is Whose.ADDRESSEE or (whose is None and signal.value in heard):
                continue
        out.append(signal)
    return out


def assign_cues(signals: list[Signal], text: str) -> list[Signal]:
    """The message's signals with each implied-age cue given to whom it is about: kept for the
    speaker, turned into an ``ascribed_age`` for the recipient, or dropped when asked."""
    out: list[Signal] = []
    for signal in signals:
        if signal.name != "implied_age":
            out.append(signal)
            continue
        whose = whose_cue(text, signal.span, signal.language)
        if whose is Whose.SPEAKER:
            out.append(signal)
        elif whose is Whose.ADDRESSEE:
            out.append(replace(signal, name="ascribed_age"))
    return out
