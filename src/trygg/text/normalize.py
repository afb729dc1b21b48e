"""Text normalisation that defeats cheap obfuscation while keeping a map back to the original.

Why: people who groom or extort children write ``sn4p``, ``s.n.a.p``, ``ｓｎａｐ``, ``ѕnар``
(Cyrillic) or ``heeeej`` precisely so that keyword filters miss them. Language packs match on
the *normalised* text; moderators must see evidence in the *original* text. So every step here
keeps ``offsets``: ``offsets[i]`` is the index in ``original`` of the character that produced
normalised character ``i`` (plus a final entry ``len(original)``), and
:meth:`NormalizedText.original_span` maps a match back.

Steps, in order (what a pattern author can rely on):

1. Per character: Unicode NFKC (fullwidth, ligatures, mathematical letters, circled letters),
   ``casefold``, Cyrillic/Greek/small-capital look-alikes folded to Latin, diacritics removed
   from Latin letters **except Swedish å ä ö** (``"år" != "ar"``; ``é`` → ``e``, ``ü`` → ``u``,
   so write ``ide`` not ``idé`` in patterns). Format characters (zero-width space/joiner, soft
   hyphen, bidi overrides), control characters and variation selectors are removed; combining
   marks are composed onto the previous letter when that gives one character (``a`` + ring →
   ``å``), otherwise dropped (strike-through and "Zalgo" text). Invisible fillers become spaces.
2. Whitespace runs become one space; leading and trailing whitespace is removed.
3. Runs of at least three single letters separated by ``.``, ``-``, ``_`` or ``*`` (a
   separator may have one space either side) are joined: ``s.n.a.p``, ``k-i-k`` → ``snap``,
   ``kik``. Leet digits count as letters here (``s.n.4.p``) but a run needs two real letters.
   Runs separated by single spaces only must have at least four letters, at most half of them
   letters that are words on their own (``a i u r y o e å ö``), so ``s n a p`` and
   ``t e l e g r a m`` are joined but chat shorthand ``r u a girl``, ``u r a`` and ``i a m``
   is not. Collateral: dotted abbreviations join (``d.v.s`` → ``dvs``, ``f.b.i`` → ``fbi``).
4. Leetspeak inside words: ``0→o 1→i 3→e 4→a 5→s 7→t @→a $→s``, only for a run of such
   characters with a letter on *both* sides (``sn4p``, ``t3legram``, ``n00dz``, ``sn@p``; but
   not a run of different digits, as in ``user115s``), a
   ``$`` run starting a word (``$nap``) or a ``0``/``$`` run ending a word after a letter
   (``hell0``, ``a$$``). Numbers therefore survive for age extraction: ``13``, ``13år``,
   ``13f``, ``12yo``, ``7th``, ``1337``, ``kl 18``, ``50kr``, ``tjej13``. ``1`` becomes ``i``
   (not ``l``): in pack vocabulary ``1`` stands for ``i`` far more often (``p1cs``, ``d1ck``,
   ``d1sc``); a pattern that cares can accept both (``te[il]egram``). An ``@`` in an e-mail
   address (``name@host.tld``) is left alone so contact details stay detectable.
5. A letter repeated three or more times becomes one letter (``heeeej`` → ``hej``, ``sooo`` →
   ``so``); double letters stay (``hallå``, ``good``). ``www.`` is kept for URLs.

Punctuation (``?``, ``/``, ``:``) and emoji are kept, except that typographic apostrophes,
quotes, dashes and middle dots become ``'``, ``"``, ``-`` and ``.`` (step 1), and the letter
emoji 🅐-🅩 / 🅰-🆉 become letters. Flags (regional indicators) stay emoji: as letters, 🇸🇪 would
read "se".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from trygg.text.short_texts import cached_for_short_texts

__all__ = ["NormalizedText", "normalize"]


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A normalised text together with the map back to the text the user wrote.

    Invariants: ``len(offsets) == len(text) + 1``, ``offsets`` is non-decreasing, every entry is
    in ``[0, len(original)]`` and the last one is ``len(original)``.
    """

    original: str
    text: str
    offsets: tuple[int, ...]

    def __post_init__(self) -> None:
        # Cheap O(1) checks: a hand-built instance with a wrong map would otherwise only show
        # up as evidence highlighting the wrong words.
        if len(self.offsets) != len(self.text) + 1 or self.offsets[-1] != len(self.original):
            raise ValueError(
                f"offsets must have len(text) + 1 = {len(self.text) + 1} entries ending in "
                f"len(original) = {len(self.original)}; got {len(self.offsets)} ending in "
                f"{self.offsets[-1] if self.offsets else None}"
            )

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the half-open normalised span ``[start, end)`` to the original text.

        The result covers every original character that produced a character of the span
        (a stretched ``eeee``, a dotted ``s.n.a.p``, a ligature, dropped combining marks after
        a letter), without trailing whitespace unless the span ends in a space. An empty span
        maps to an empty span.
        """
        n = len(self.text)
        if not (0 <= start <= end <= n):
            raise ValueError(f"span [{start}, {end}) is not inside the normalised text of length {n}")
        offsets = self.offsets
        s = offsets[start]
        if start == end:
            return s, s
        last = offsets[end - 1]
        k = end
        e = offsets[k]
        while e <= last:  # terminates: offsets[-1] == len(original) > last
            k += 1
            e = offsets[k]
        if not self.text[end - 1].isspace():
            original = self.original
            while e > last + 1 and original[e - 1].isspace():
                e -= 1
        return s, e


# --- step 1: per-character folding -----------------------------------------------------------

#: Look-alikes that NFKC leaves alone, applied after casefold (so lowercase forms suffice).
_HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "к": "k", "м": "m",
    "т": "t", "н": "h", "в": "b", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "ԛ": "q",
    "ԝ": "w", "ү": "y", "һ": "h", "ь": "b", "ɡ": "g", "г": "r", "п": "n", "и": "u", "ё": "e",
    "ї": "i", "љ": "jb", "ѡ": "w",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "μ": "u", "ϲ": "c", "ϳ": "j", "ζ": "z",
    # Armenian
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g",
    # Latin small capitals and other stand-ins
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ғ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i",
    "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ǫ": "q", "ʀ": "r",
    "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    "ı": "i", "ł": "l", "đ": "d", "ħ": "h", "ŧ": "t", "ƀ": "b", "ɑ": "a", "ɩ": "i", "ɵ": "o",
    # punctuation variants, so patterns need one spelling ("i'm", "s-n-a-p", "s.n.a.p")
    "’": "'", "‘": "'", "ʼ": "'", "′": "'", "“": '"', "”": '"', "„": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-",
    "·": ".", "•": ".", "‧": ".", "∙": ".",
}
#: Negative circled / negative squared Latin capitals (🅐, 🅰): emoji that NFKC leaves alone.
_EMOJI_LETTER_BLOCKS = ((0x1F150, 0x1F169), (0x1F170, 0x1F189))
#: Letters whose diacritic is part of the Swedish alphabet and therefore kept.
_KEEP_DIACRITICS = frozenset("åäö")
#: Invisible characters that are not Unicode whitespace but are used as spaces.
_INVISIBLE_SPACES = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_MARK_CATEGORIES = frozenset(("Mn", "Me"))


def _fold_char(ch: str) -> str:
    """NFKC + casefold + look-alike + diacritic folding of one character (may be 0..n chars)."""
    if ch in _INVISIBLE_SPACES:
        return " "
    code = ord(ch)
    for first, last in _EMOJI_LETTER_BLOCKS:
        if first <= code <= last:
            return chr(ord("a") + code - first)
    category = unicodedata.category(ch)
    if category == "Cf" or category in _MARK_CATEGORIES:
        return ""
    if category == "Cc":
        return " " if ch.isspace() else ""
    if category == "Cs":
        return "\ufffd"
    out = []
    for c in unicodedata.normalize("NFKC", ch).casefold():
        c = _HOMOGLYPHS.get(c, c)
        if c not in _KEEP_DIACRITICS and not c.isascii():
            decomposed = unicodedata.normalize("NFD", c)
            if len(decomposed) > 1 and all(unicodedata.category(m) in _MARK_CATEGORIES for m in decomposed[1:]):
                c = _HOMOGLYPHS.get(decomposed[0], decomposed[0])
            elif unicodedata.category(c) in _MARK_CATEGORIES:
                continue  # NFKC of spacing accents gives space + combining mark: drop the mark
        out.append(c)
    return "".join(out)


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each new code point once, on first sight."""

    def __missing__(self, code: int) -> str:
        value = _fold_char(chr(code))
        self[code] = value
        return value


class _OneToOneTable(dict[int, str]):
    """Translate table mapping each code point to its fold when that is exactly one character
    (and the code point is no combining mark), and every other code point to ``""``.

    ``text.translate(_ONE_TO_ONE)`` is as long as ``text`` exactly when every character folds
    one-to-one, and is then the folded text with identity offsets: one pass tells both.
    """

    def __missing__(self, code: int) -> str:
        fold = _FOLD[code]
        regular = len(fold) == 1 and unicodedata.category(chr(code)) not in _MARK_CATEGORIES
        value = fold if regular else ""
        self[code] = value
        return value


_FOLD = _FoldTable()
_ONE_TO_ONE = _OneToOneTable()
_ASCII_IRREGULAR = re.compile(r"[\x00-\x08\x0e-\x1b\x7f]")
#: A character outside printable ASCII and the Swedish letters, for all of which the fold is
#: ``str.lower``. Most Swedish messages have å, ä or ö and nothing else outside ASCII; this
#: keeps them off ``str.translate`` over the fold tables, four times slower.
_BEYOND_SWEDISH = re.compile(r"[^ -~åäöÅÄÖ]")


def _fold(text: str) -> tuple[str, list[int] | None]:
    """Step 1 over a whole text; per-character Python work only when some fold is not 1:1.

    The offsets are ``None`` when every character folds to exactly one (the identity map).
    """
    if (text.isascii() and not _ASCII_IRREGULAR.search(text)) or not _BEYOND_SWEDISH.search(text):
        return text.lower(), None
    folded = text.translate(_ONE_TO_ONE)
    if len(folded) == len(text):
        return folded, None
    chars: list[str] = []
    offsets: list[int] = []
    fold = _FOLD
    for i, ch in enumerate(text):
        value = fold[ord(ch)]
        if len(value) == 1:
            chars.append(value)
            offsets.append(i)
        elif value:
            chars.extend(value)
            offsets.extend([i] * len(value))
        elif chars and unicodedata.category(ch) in _MARK_CATEGORIES:
            composed = unicodedata.normalize("NFC", chars[-1] + ch)
            if len(composed) == 1:
                refolded = fold[ord(composed)]
                if len(refolded) == 1:
                    chars[-1] = refolded
    return "".join(chars), offsets


# --- steps 2-5: regex rewrites that keep the offset map ---------------------------------------

_WHITESPACE = re.compile(r"^\s+|\s+$|\s{2,}|[^\S ]")
_LETTER = r"[^\W\d_]"
_SPACED_ELEMENT = rf"(?:{_LETTER}|[013457@$])"
#: Cheap necessary condition for a spaced run: some element with a separator on both sides.
_SPACED_HINT = re.compile(r"[ .\-_*][^\W_][ .\-_*]|[ .\-_*][@$][ .\-_*]")
_SPACED = re.compile(
    rf"(?<![\w@$]){_SPACED_ELEMENT}(?:(?: ?[.\-_*] ?| ){_SPACED_ELEMENT}){{2,}}(?![\w@$])"
)
_LEET_RUN = re.compile(r"[013457@$]+")
_LEET_TABLE = str.maketrans("013457@$", "oieastas")
_EMAIL_TAIL = re.compile(r"[^\W_]*\.[^\W\d_]")
#: Stretching is only collapsed for Latin letters: other scripts were folded to Latin in step 1
#: or are not matched by any pack; a narrow class keeps this scan cheap.
_STRETCH = re.compile(r"([a-zåäöæøðþ])\1\1+")


def _collapse_whitespace(match: re.Match[str]) -> tuple[str, list[int]]:
    if match.start() == 0 or match.end() == len(match.string):
        return "", []
    return " ", [match.start()]


#: Letters that are words on their own in chat ("r u a girl", "u r a cutie", "i a m").
_SINGLE_LETTER_WORDS = frozenset("aiuryoeåö")


def _join_spaced(match: re.Match[str]) -> tuple[str, list[int]] | None:
    start = match.start()
    run = match.group()
    positions = [start + j for j, c in enumerate(run) if c.isalnum() or c in "@$"]
    elements = [match.string[p] for p in positions]
    if sum(1 for c in elements if c.isalpha()) < 2:
        return None
    # Only spaces: "r u a girl" is shorthand, "s n a p" is obfuscation. Demand four letters,
    # at most half of them letters that are words by themselves.
    spaces_only = not any(c in ".-_*" for c in run)
    one_letter_words = sum(1 for c in elements if c in _SINGLE_LETTER_WORDS)
    if spaces_only and (len(elements) < 4 or 2 * one_letter_words > len(elements)):
        return None
    return "".join(elements), positions


def _collapse_stretch(match: re.Match[str]) -> tuple[str, list[int]] | None:
    letter = match.group(1)
    if letter == "w" and match.end() - match.start() == 3 and match.string.startswith(".", match.end()):
        return None  # www.example.com
    return letter, [match.start()]


_Replace = Callable[[re.Match[str]], "tuple[str, list[int]] | None"]


def _rewrite(
    pattern: re.Pattern[str], text: str, offsets: list[int] | None, replace: _Replace
) -> tuple[str, list[int] | None]:
    """Apply ``replace`` to each match; it returns the new string and, per new character, the
    index in ``text`` it comes from (or ``None`` to keep the match). Offsets follow; ``None``
    (the identity) stays ``None`` when nothing is rewritten.

    A search first: most texts have no match, and a bare search is about a third of the cost of
    setting up the rewrite; the rewrite then starts at that first match.
    """
    first = pattern.search(text)
    if first is None:
        return text, offsets
    parts: list[str] = []
    new_offsets: list[int] = []
    last = 0
    for match in pattern.finditer(text, first.start()):
        result = replace(match)
        if result is None:
            continue
        new, positions = result
        if offsets is None:
            offsets = list(range(len(text)))
        start = match.start()
        parts.append(text[last:start])
        parts.append(new)
        new_offsets += offsets[last:start]
        new_offsets += [offsets[p] for p in positions]
        last = match.end()
    if not parts:
        return text, offsets
    parts.append(text[last:])
    new_offsets += offsets[last:]
    return "".join(parts), new_offsets


def _leet(text: str) -> str:
    """Step 4: replace leet runs that sit in a word (rules in the module docstring), 1:1."""
    parts: list[str] = []
    last = 0
    for match in _LEET_RUN.finditer(text):
        start, end = match.span()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        run = match.group()
        letter_before = before.isalpha()
        if letter_before and after.isalpha():
            if "@" in run and _EMAIL_TAIL.match(text, end):
                continue  # name@host.tld: keep contact details intact
            if len(run) > 1 and run.isdigit() and run.count(run[0]) != len(run):
                continue  # user115s, ab12cd: a number inside a name, not n00dz
        elif letter_before and not (after.isalnum() or (after and after in "@$_")):
            if run.strip("0$"):
                continue  # only 0 and $ end a word as leet (hell0, a$$); tjej13 stays
        elif after.isalpha() and not (before.isalnum() or (before and before in "@$_")):
            if run.strip("$"):
                continue  # only $ starts a word as leet ($nap); 13år, 12yo, 7th stay
        else:
            continue
        parts.append(text[last:start])
        parts.append(run.translate(_LEET_TABLE))
        last = end
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)


def _normalize(original: str) -> NormalizedText:
    text, offsets = _fold(original)
    if "  " in text or text[:1] == " " or text[-1:] == " " or not text.isprintable():
        text, offsets = _rewrite(_WHITESPACE, text, offsets, _collapse_whitespace)
    if _SPACED_HINT.search(text):
        text, offsets = _rewrite(_SPACED, text, offsets, _join_spaced)
    text = _leet(text)  # one character for one: offsets unchanged
    text, offsets = _rewrite(_STRETCH, text, offsets, _collapse_stretch)
    if offsets is None:  # nothing moved: most messages
        return NormalizedText(original, text, _identity(len(original)))
    offsets.append(len(original))
    return NormalizedText(original, text, tuple(offsets))


@lru_cache(maxsize=256)
def _identity(length: int) -> tuple[int, ...]:
    """The offsets of a text that normalised character for character: ``(0, 1, ..., length)``.

    Shared between texts of one length (tuples are immutable) instead of built per message;
    chat messages are short, so a few hundred lengths cover nearly all of them.
    """
    return tuple(range(length + 1))


_normalize_cached = cached_for_short_texts(_normalize, maxsize=8192)


def normalize(text: str) -> NormalizedText:
    """Normalise ``text`` for pattern matching; see the module docstring for the exact steps.

    Short texts ("hi", "ok", "haha", "hur gammal e du") repeat a lot in chat, so they are
    cached; the result is immutable, so sharing it is safe.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize expects str, got {type(text).__name__}")
    return _normalize_cached(text)
