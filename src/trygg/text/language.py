"""Language identification for chat: Swedish, English, German, Dutch or other, per message and per
conversation.

Why: language packs are per language, and a Swedish pattern run over Norwegian text (or an
English one over Swedish) produces false signals. So a conversation is given a language once
there is enough evidence, and the packs for that language are used.

Detection uses ``lingua`` (offline models) restricted to Swedish, English and the languages
they are most often confused with (Norwegian, Danish, German, Dutch, Finnish, ...) plus
languages common in Sweden (Arabic, Persian, Somali, Turkish, Polish, ...), so that "other"
means something: Norwegian is "other", not "Swedish with odd spelling". Lingua reads short
informal Swedish poorly ("jag e 13 asså" comes out Danish or Italian), so words that are distinctive for
Swedish or English chat add evidence on top of lingua's confidences (:data:`_SV_MARKERS`,
:data:`_EN_MARKERS`).

German and Dutch (issue 9) have packs too, so lingua's German and Dutch are their own codes
instead of part of "other"; the argmax over (sv, en, the likeliest other) is unchanged by that
split, so Swedish and English texts are read as before. Dutch chat shares English marker words
("is", "we", "me", "hey"), so words distinctive for German or Dutch chat (:data:`_DE_MARKERS`,
:data:`_NL_MARKERS`, none of them English or Swedish words) add evidence the same way and keep
the English markers from deciding a Dutch text on their own.

A single message is often undecidable ("ok", "haha", "13"); :func:`guess_language` then returns
``None`` and :class:`LanguageTracker` keeps what it knew. The detector is built once, lazily,
on first use, and :class:`LanguageTracker` stops calling it once a conversation has settled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import filterfalse
from typing import Any

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from trygg.text.short_texts import cached_for_short_texts

__all__ = ["LANGUAGE_CODES", "Guess", "LanguageTracker", "detect_language", "guess_language"]

#: What :func:`detect_language` and :attr:`LanguageTracker.language` return.
LANGUAGE_CODES: tuple[str, ...] = ("sv", "en", "de", "nl", "other")
#: Lingua languages that have a code of their own (the rest are "other").
_OWN_CODES: dict[Language, str] = {
    Language.SWEDISH: "sv",
    Language.ENGLISH: "en",
    Language.GERMAN: "de",
    Language.DUTCH: "nl",
}

_LANGUAGES: tuple[Language, ...] = (
    Language.SWEDISH,
    Language.ENGLISH,
    # confused with Swedish / English
    Language.BOKMAL,
    Language.NYNORSK,
    Language.DANISH,
    Language.ICELANDIC,
    Language.GERMAN,
    Language.DUTCH,
    Language.FINNISH,
    Language.ESTONIAN,
    Language.FRENCH,
    Language.SPANISH,
    Language.ITALIAN,
    Language.PORTUGUESE,
    # widely spoken in Sweden
    Language.ARABIC,
    Language.PERSIAN,
    Language.SOMALI,
    Language.TURKISH,
    Language.POLISH,
    Language.BOSNIAN,
    Language.RUSSIAN,
)

#: Words frequent in Swedish chat and rare in Norwegian, Danish and English (abbreviations and
#: spoken forms included: lingua's models come from edited text).
_SV_MARKERS = frozenset(
    """
    jag inte och vad hur mig dig mej dej är va vart varför gör gjorde också asså typ ngn nån
    nåt ngt någon något några ngra nånting ingenting tjena tja läget kanske snälla skulle
    gammal ikväll imorgon idag igår sån sånt sådan såna hej hejdå okej mycket bara bättre vill ska
    måste fick kolla skicka snygg
    """.split()
)
#: Words frequent in English chat and rare in the Nordic languages.
_EN_MARKERS = frozenset(
    """
    the you your you're youre u ur r are is i'm im what how why when where who wanna gonna
    and do don't dont does did has it's its that this with from of yeah yes hey hi please
    thanks thank want send can can't cant would should not my me we our they he she him
    """.split()
)
#: Words frequent in German chat, absent from English, Swedish and Dutch (no "du", "die", "was").
_DE_MARKERS = frozenset(
    """
    ich nicht nich und ist bist hast habe hab mir mich dich dir auch aber schon noch jetzt
    kann kannst nur wir bitte danke nein warum wieso wenn weil dass oder eigentlich gerade
    heute vielleicht alles nichts mein meine dein deine deiner deinem meinen deinen sehr einfach
    bisschen gehts geht willst musst machst schreib keine keiner niemand
    """.split()
)
#: Words frequent in Dutch chat, absent from English, Swedish and German (no "is", "we", "van").
_NL_MARKERS = frozenset(
    """
    ik niet een jij jou jouw mijn zijn maar ook nog nee waarom niks alsjeblieft dankje
    dankjewel bedankt tegen moet gaat weet jullie hoor leuk goed gewoon eigenlijk vandaag naar
    voor hij wij onze zeg heb hebt
    """.split()
)
#: Chat words every language uses; they carry no evidence and mislead lingua ("lol ok" → Estonian).
_NEUTRAL = frozenset("lol ok okay k kk mm mmm hmm omg btw wtf xd xo xoxo nice cool pls plz ty thx".split())
_LAUGHTER = re.compile(r"(?:h+[aeiou]+){2,}h*|a+h+a*|x+d+|l+o+l+|(?:j+a+){2,}")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
#: Evidence one marker word adds (in probability mass) and the most markers can add.
_MARKER_WEIGHT = 0.3
_MARKER_CAP = 0.6
#: Marker words of one language, none of the other, that decide without lingua; and the
#: confidence such a decision gets (below :attr:`LanguageTracker.SETTLE_CONFIDENCE` is not
#: wanted: enough clear text should settle the conversation). Two, not three: lingua is the
#: costliest call a conversation makes (about 0.2 ms), two markers halve how often it is asked,
#: and Tatoeba accuracy is unchanged or better (sv 0.917 → 0.918, en 0.890 → 0.894 on every
#: fifth pair); scenario, DailyDialog, NPS and pj figures are the same.
_MARKERS_DECISIVE = 2
_MARKER_CONFIDENCE = 0.8


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    """The one detector of the process.

    Low-accuracy mode (trigram models only): 46 MB and 0.2 s to load instead of 530 MB and
    4 s for high-accuracy mode over the same languages, and about five times faster. It is
    weaker on single short sentences (Tatoeba: 0.90 vs 0.98 correct) but as good once text
    accumulates (three sentences: 0.997 vs 1.0), which is what :class:`LanguageTracker` feeds it.
    """
    builder = LanguageDetectorBuilder.from_languages(*_LANGUAGES).with_low_accuracy_mode()
    return builder.with_preloaded_language_models().build()


@dataclass(frozen=True, slots=True)
class Guess:
    """A decided language with the share of evidence behind it (in ``(0, 1]``) and how many
    letters it was based on."""

    code: str
    confidence: float
    letters: int


@lru_cache(maxsize=1 << 16)
def _is_filler(word: str) -> bool:
    """A chat word every language shares ("ok", "lol", "hahaha"): no evidence either way.

    Cached per word: chat vocabulary repeats, so a bounded cache answers most words without
    the regex.
    """
    return word in _NEUTRAL or _LAUGHTER.fullmatch(word) is not None


@dataclass(slots=True)
class _Evidence:
    """What :func:`guess_language` reads from a text: its words (fillers set aside), their
    letters, and the marker words of each language among them.

    Separate from the guess so that :class:`LanguageTracker` can extend it message by message
    instead of re-reading its whole buffer at every re-detection. Reading texts one by one gives
    the same evidence as reading them joined by line breaks: a word never spans a line break,
    and lower-casing (final sigma included) does not look across one.
    """

    words: list[str] = field(default_factory=list)
    letters: int = 0
    sv_markers: int = 0
    en_markers: int = 0
    de_markers: int = 0
    nl_markers: int = 0

    def add(self, text: str) -> None:
        """Take the words of ``text`` in after those already read."""
        words = list(filterfalse(_is_filler, _WORD.findall(text.lower())))
        self.words += words
        self.letters += sum(map(len, words))
        self.sv_markers += sum(map(_SV_MARKERS.__contains__, words))
        self.en_markers += sum(map(_EN_MARKERS.__contains__, words))
        self.de_markers += sum(map(_DE_MARKERS.__contains__, words))
        self.nl_markers += sum(map(_NL_MARKERS.__contains__, words))


def guess_language(text: str) -> Guess | None:
    """Guess ``"sv"``, ``"en"``, ``"de"``, ``"nl"`` or ``"other"`` for ``text``, or ``None`` when undecidable.

    Undecidable: fewer than four letters once words every chat language shares ("ok", "lol",
    "haha") are set aside.
    The evidence for "other" is lingua's strongest other language, not the sum over all of
    them: summed over some twenty languages, the scraps would outvote undecided Swedish.
    """
    evidence = _Evidence()
    evidence.add(text)
    return _guess(evidence)


def _guess(evidence: _Evidence) -> Guess | None:
    """:func:`guess_language` on evidence already read."""
    letters = evidence.letters
    if letters < 4:
        return None
    markers = {"sv": evidence.sv_markers, "en": evidence.en_markers, "de": evidence.de_markers, "nl": evidence.nl_markers}
    present = [code for code, count in markers.items() if count]
    if len(present) == 1 and markers[present[0]] >= _MARKERS_DECISIVE:
        # Clear chat in one of our languages: the markers decide and lingua (about half a
        # millisecond a call, the engine's largest cost) is not asked.
        return Guess(present[0], _MARKER_CONFIDENCE, letters)
    text = " ".join(evidence.words)
    mass = dict(zip(("sv", "en", "de", "nl", "other"), _lingua_cached(text)))
    for code, count in markers.items():
        mass[code] += min(_MARKER_CAP, _MARKER_WEIGHT * count)
    # As before German and Dutch had codes: sv, en and the strongest of the rest (German, Dutch
    # or another), so a Swedish or English guess keeps its confidence.
    total = mass["sv"] + mass["en"] + max(mass["de"], mass["nl"], mass["other"])
    if total <= 0.0:
        return None
    code, best = max(mass.items(), key=lambda item: item[1])
    return Guess(code, best / total, letters)


def _lingua(text: str) -> tuple[float, float, float, float, float]:
    """Lingua's confidence in Swedish, English, German, Dutch, and in the likeliest other language."""
    own = {"sv": 0.0, "en": 0.0, "de": 0.0, "nl": 0.0}
    other = 0.0
    for value in _detector().compute_language_confidence_values(text):
        code = _OWN_CODES.get(value.language)
        if code is not None:
            own[code] = value.value
        else:
            other = max(other, value.value)
    return own["sv"], own["en"], own["de"], own["nl"], other


#: Lingua answers for short texts are cached. Most detections are a conversation's first, on
#: its first message with letters, and openers repeat: of the lingua calls on the Perverted
#: Justice chats (real chat) 23% repeat an earlier text, on DailyDialog 7%.
_lingua_cached = cached_for_short_texts(_lingua, maxsize=4096)


def detect_language(text: str) -> str:
    """``"sv"``, ``"en"``, ``"de"``, ``"nl"`` or ``"other"`` for one text; undecidable text gives ``"other"``.

    For a conversation use :class:`LanguageTracker`, which accumulates evidence and keeps its
    prior when a message is undecidable.
    """
    guess = guess_language(text)
    return guess.code if guess is not None else "other"


@dataclass(slots=True)
class LanguageTracker:
    """The language of one conversation, from the text of its messages as they arrive.

    Each :meth:`observe` appends the message to a bounded buffer (the last
    :attr:`MAX_CHARS` characters) and re-detects on the whole buffer, at most once per
    :attr:`RECHECK_LETTERS` new letters at first and then each time the text has doubled. The tracker *settles* once at least
    :attr:`SETTLE_LETTERS` letters give a guess with confidence >= :attr:`SETTLE_CONFIDENCE`,
    or unconditionally on its best guess after :attr:`FORCE_SETTLE_LETTERS` letters (a mixed
    Swedish/English chat must not cost a detection per message forever). After settling it
    stops detecting and drops the buffer. A detection reads only the text that came since the
    previous one (the words already read are kept), so its cost beyond lingua does not grow
    with the buffer; :attr:`buffer` is therefore only ever appended to, or cut.

    :attr:`language` is the settled language, else the latest guess, else ``default``.
    The default is ``"en"`` because before any evidence the English pack is the safer one to
    run: English chat vocabulary (``snap``, ``pics``, ``nudes``, ``asl``) is shared by Swedish
    teenagers, while Swedish patterns rarely fire on English text. A platform that is mostly
    Swedish can pass ``default="sv"``.
    """

    MAX_CHARS = 2000
    RECHECK_LETTERS = 12
    SETTLE_LETTERS = 60
    SETTLE_CONFIDENCE = 0.75
    FORCE_SETTLE_LETTERS = 400

    default: str = "en"
    buffer: str = ""
    letters: int = 0
    checked_letters: int = 0
    guess: str | None = None
    confidence: float = 0.0
    settled: bool = False
    #: The evidence in ``buffer[:_read]``, extended at each detection by what came after; None
    #: when it must be read afresh from the whole buffer (at first, and after the buffer was cut).
    _evidence: _Evidence | None = field(default=None, init=False, repr=False, compare=False)
    _read: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.default not in LANGUAGE_CODES:
            raise ValueError(f"default must be one of {LANGUAGE_CODES}, got {self.default!r}")
        if self.guess is not None and self.guess not in LANGUAGE_CODES:
            raise ValueError(f"guess must be one of {LANGUAGE_CODES} or None, got {self.guess!r}")

    @property
    def language(self) -> str:
        """One of :data:`LANGUAGE_CODES`: settled, else best guess so far, else the default."""
        return self.guess if self.guess is not None else self.default

    def observe(self, text: str) -> str:
        """Take one message's text into account and return :attr:`language`."""
        if self.settled:
            return self.language
        new_letters = sum(map(str.isalpha, text))
        if not new_letters:
            return self.language
        buffer = f"{self.buffer}\n{text}" if self.buffer else text
        if len(buffer) > self.MAX_CHARS:
            buffer = buffer[-self.MAX_CHARS :]
            self._evidence = None  # cut, perhaps mid-word: read the buffer afresh
        self.buffer = buffer
        self.letters += new_letters
        due = (
            self.letters - self.checked_letters >= max(self.RECHECK_LETTERS, self.checked_letters)
            or self.checked_letters < self.SETTLE_LETTERS <= self.letters  # first chance to settle
        )
        if self.guess is not None and not due and self.letters < self.FORCE_SETTLE_LETTERS:
            # Re-detect after RECHECK_LETTERS new letters at first, then each time the text has
            # doubled: a handful of detections per conversation instead of one per message.
            return self.language
        self.checked_letters = self.letters
        guess = _guess(self._read_buffer())
        if guess is not None:
            self.guess = guess.code
            self.confidence = guess.confidence
        confident = guess is not None and guess.confidence >= self.SETTLE_CONFIDENCE
        if self.guess is not None and (
            (confident and self.letters >= self.SETTLE_LETTERS) or self.letters >= self.FORCE_SETTLE_LETTERS
        ):
            self.settled = True
            self.buffer = ""
            self._evidence = None
        return self.language

    def _read_buffer(self) -> _Evidence:
        """The evidence in the whole buffer, reading only what came since the last detection.

        Equal to reading the buffer afresh (see :class:`_Evidence`): the unread part starts at
        the line break that joined the next message on.
        """
        if self._evidence is None:
            self._evidence = _Evidence()
            self._read = 0
        self._evidence.add(self.buffer[self._read :])
        self._read = len(self.buffer)
        return self._evidence

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable state (for conversation state storage).

        The text buffer is left out on purpose: stored state must not become a copy of what
        children wrote. A restored tracker keeps its guess and confidence and simply gathers
        new text before it settles.
        """
        return {
            "default": self.default,
            "buffer": "",
            "letters": self.letters,
            "checked_letters": self.checked_letters,
            "guess": self.guess,
            "confidence": self.confidence,
            "settled": self.settled,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LanguageTracker:
        """Inverse of :meth:`to_dict`; a missing or mistyped field raises ``ValueError`` naming it."""
        expected = {
            "default": str,
            "buffer": str,
            "letters": int,
            "checked_letters": int,
            "guess": (str, type(None)),
            "confidence": (float, int),
            "settled": bool,
        }
        for name, kind in expected.items():
            if name not in data:
                raise ValueError(f"LanguageTracker: missing field {name!r}")
            value = data[name]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ValueError(f"LanguageTracker: field {name!r} has invalid value {value!r}")
        return cls(
            default=data["default"],
            buffer=data["buffer"],
            letters=data["letters"],
            checked_letters=data["checked_letters"],
            guess=data["guess"],
            confidence=float(data["confidence"]),
            settled=data["settled"],
        )
