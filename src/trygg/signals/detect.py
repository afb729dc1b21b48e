"""Run the language packs over one normalised message and report Signals.

Why these packs: a conversation's language is settled statistically and is sometimes wrong,
and Swedish teenagers write English chat slang ("add me on snap", "send pics") in the middle of
Swedish. So every message is checked against the packs of *both* first languages (the
conversation's own language first, so it wins ties) plus the language-independent ``common``
pack. Measured (utterances with a signal scoring >= 0.5, per 1,000): DailyDialog 12.1 with en
alone and 12.1 with en+sv; NPS chat 25.4 and 25.4; Tatoeba Swedish 8.8 with sv alone and 8.8
with sv+en. So the second pack costs no measured false alarms, and it catches mixed-language
phrasing. A language without a pack ("other", or a code with no TOML file) gets the same
sv+en+common set. German and Dutch (issue 9) run their own pack first and then the same set;
their packs are not base packs, so Swedish and English conversations run exactly what they ran
before.

Why this shape: >= 10,000 messages/s on one core means well under 40 µs per message, and
Python's ``re`` tries every branch of an alternation at every position, so ~340 patterns cost
~1 ms per message when simply run. :mod:`trygg.signals.prefilter` finds, for each pattern, the
literals that every match must contain; one Aho-Corasick scan of the text then names the few
entries that could match (on DailyDialog, under one per message), and only those run, each
family's strongest first: the first entry of a family that matches is its signal.
"""

from __future__ import annotations

import re
from typing import Any
from collections.abc import Sequence
from functools import cache, lru_cache

from trygg.lang import (
    COMMON_PACK,
    LanguagePack,
    PatternEntry,
    available_languages,
    load_pack,
)
from trygg.lang.pack import VALUE_FAMILIES
from trygg.signals.base import ALL_FAMILIES, DetectionContext, Signal
from trygg.signals.prefilter import LiteralScanner, needs_digit, required_literals
from trygg.text.normalize import NormalizedText
from trygg.text.short_texts import cached_for_short_texts

#: Packs run for every message, after the conversation's own language pack.
BASE_LANGUAGES: tuple[str, ...] = ("sv", "en")

_DIGIT = re.compile(r"[0-9]")


class Detector:
    """All families of a fixed list of packs, compiled for speed."""

    def __init__(self, packs: Sequence[LanguagePack]) -> None:
        self.packs = tuple(packs)
        order = {name: i for i, name in enumerate(ALL_FAMILIES)}
        entries = [e for pack in self.packs for fam in pack.families.values() for e in fam]
        # Family order, then strongest first; the sort is stable so pack order breaks ties.
        entries.sort(key=lambda e: (order[e.family], -e.score))
        self._entries = tuple(entries)
        self._always: list[int] = []  # no literal to filter on: run on every message (kept few)
        self._digit: list[int] = []  # only a digit to filter on: run when the text has one
        by_literal: dict[str, list[int]] = {}
        # A short literal AND a digit ("im" + age): need both. Their literals ("e", "u", "m",
        # "st") occur in nearly every message, so they get their own scanner, run only on texts
        # with a digit, instead of being found everywhere and then discarded.
        gated_by_literal: dict[str, list[int]] = {}
        for i, entry in enumerate(entries):
            literals = required_literals(entry.pattern)
            target = by_literal
            if literals is None and needs_digit(entry.pattern):
                literals = required_literals(entry.pattern, min_anchor=1)
                if literals is None:
                    self._digit.append(i)
                    continue
                target = gated_by_literal
            if literals is None:
                self._always.append(i)
                continue
            for lit in literals:
                target.setdefault(lit, []).append(i)
        self._scanner = LiteralScanner({lit: tuple(ids) for lit, ids in by_literal.items()})
        self._gated_scanner = LiteralScanner({lit: tuple(ids) for lit, ids in gated_by_literal.items()})
        # Per detector (its packs decide the matches) and bounded; results are immutable tuples.
        self._found_cached = cached_for_short_texts(self._find, maxsize=_CACHE_SIZE)

    def candidates(self, text: str) -> list[PatternEntry]:
        """Entries that may match ``text`` (all others cannot), in family/strength order."""
        ids = self._scanner.found(text)
        if _DIGIT.search(text) is not None:
            ids |= self._gated_scanner.found(text)
            ids.update(self._digit)
        if self._always:
            ids.update(self._always)
        if not ids:
            return []
        return [self._entries[i] for i in sorted(ids)]

    def detect(self, normalized: NormalizedText, event_id: str, language: str) -> list[Signal]:
        """Age signals first (one per distinct value), then one signal per other family."""
        text = normalized.text
        found = self._found_cached(text)
        return [_signal(*match, normalized, event_id, language) for match in found]

    def _find(self, text: str) -> tuple[_Match, ...]:
        """What :meth:`detect` reports for ``text``, before it is tied to an event: a function
        of the normalised text alone, so short texts share it (see :mod:`trygg.text.short_texts`)."""
        candidates = self.candidates(text)
        if not candidates:
            return ()
        found: list[_Match] = []
        done: set[str] = set()
        values: list[_Match] = []
        for entry in candidates:
            if entry.family in done:
                continue
            if entry.family in VALUE_FAMILIES:
                self._add_values(entry, text, values)
                continue
            m = entry.regex.search(text)
            if m is not None:
                found.append((entry, m.start(), m.end(), None))
                done.add(entry.family)
        return tuple(values + found)

    @staticmethod
    def _add_values(entry: PatternEntry, text: str, found: list[_Match]) -> None:
        """Every distinct stated value, strongest evidence for each (entries come strongest first).

        A value within one of a stronger one is the same claim read twice ("14, går i åttan":
        14 stated, ~14 from the grade) and is dropped; genuinely different values ("im 13 lol
        jk, i'm 24") are all kept so the age picture can see the contradiction.
        """
        for m in entry.regex.finditer(text):
            value = entry.extract_value(m)
            if value is None or any(abs(value - int(other)) <= 1 for *_, other in found):  # type: ignore[arg-type]
                continue
            found.append((entry, m.start(), m.end(), value))


#: A match as :meth:`Detector.detect` reports it: the entry, the normalised span, the stated value.
_Match = tuple[PatternEntry, int, int, int | None]
#: Short texts whose matches each detector keeps: a repeat costs a lookup instead of the
#: literal scan and the candidates' regexes.
_CACHE_SIZE = 8192


def _signal(
    entry: PatternEntry,
    start: int,
    end: int,
    value: int | None,
    normalized: NormalizedText,
    event_id: str,
    language: str,
) -> Signal:
    # Positional: binding seven keywords costs a quarter of building the signal.
    span = normalized.original_span(start, end)
    pack_language = language if entry.pack == COMMON_PACK else entry.pack
    return Signal(entry.family, entry.score, event_id, span, pack_language, value, entry.pattern_id)


@lru_cache(maxsize=64)
def packs_for(language: str) -> tuple[str, ...]:
    """Pack codes run for a conversation in ``language`` (own pack first, then sv, en, common)."""
    own = (language,) if language in available_languages() else ()
    base = tuple(code for code in BASE_LANGUAGES if code not in own)
    return own + base + (COMMON_PACK,)


@lru_cache(maxsize=64)
def detector_for(language: str) -> Detector:
    """The compiled detector for a language; languages with the same packs share one.

    Cached per language (bounded, like :func:`packs_for`): it is asked for every message."""
    return _detector(packs_for(language))


def warm_up() -> None:
    """Compile the detector of every language pack now (a second or two each) rather than on
    the first message of a conversation in that language, where it would stall that message
    and every message queued behind it."""
    for code in available_languages():
        detector_for(code)


@cache
def _detector(codes: tuple[str, ...]) -> Detector:
    # Cached by pack list, so arbitrary language strings cannot grow the cache.
    return Detector([load_pack(code) for code in codes])


def detect_signals(normalized: NormalizedText, event_id: str, language: str) -> list[Signal]:
    """Signals in one message: at most one per family (the strongest), except one per stated age.

    ``language`` is the conversation's language ("sv", "en", "other" or any pack code); spans
    point into ``normalized.original``; ``Signal.language`` names the pack whose phrase matched
    (the conversation's language for language-independent cues).
    """
    if not isinstance(language, str) or not language:
        raise ValueError(f"language must be a non-empty string such as 'sv', 'en' or 'other', got {language!r}")
    return detector_for(language).detect(normalized, event_id, language)


class TextDetector:
    """Grooming, solicitation and sextortion cues in a message's text, in its language's pack:
    the detector every engine has (``trygg.detectors.text`` hands it to discovery)."""

    event_types = frozenset({"message"})

    def detect(self, event: Any, context: DetectionContext) -> list[Signal]:
        assert context.normalized is not None, "messages are detected on their normalised text"
        return detect_signals(context.normalized, event.event_id, context.language)  # type: ignore[arg-type]
