r"""Language packs: the phrases each signal family looks for, kept as data in TOML files.

Why data and not code: a moderator or a child-protection organisation that knows a language
(or a new slang word) should be able to add it by editing one file and its tests, without
touching the detector. Every pattern is validated when its pack is loaded, so a typo fails at
start-up with the file, family and entry id in the message, never silently at match time.

File format (``src/trygg/lang/<code>.toml``)::

    [pack]
    language = "sv"            # must equal the file name
    name = "Svenska"
    version = 1

    [macros]                   # optional; {NAME} in a pattern (or in a later macro) is replaced by the value
    AGE = "(?:[6-9]|[1-9][0-9])"

    [[age_disclosure]]         # one array of tables per signal family
    id = "jag_ar_n"            # unique within the pack
    pattern = '''\bjag (?:är|e) (?P<age>{AGE})\b'''
    score = 0.9                # 0..1: how strongly ONE match shows the family
    value_group = "age"        # age families: the group holding the stated number ...
    value_offset = 0           # ... plus this offset (grade -> age), or
    # value = 13               # a fixed value (e.g. "går i sjuan")
    note = "why this entry exists"

Patterns run on *normalised* text (``trygg.text.normalize``): casefolded, homoglyphs and
in-word leetspeak folded, spaced letters joined, single spaces. So patterns are lower case; an
upper-case literal could never match and is rejected. Write them as TOML literal strings
(``'''...'''``) so backslashes and apostrophes need no escaping.

Speed: the detector runs a pattern only when the text contains one of the literals every match
of it needs (found automatically, see ``trygg.signals.prefilter``). A pattern whose matches need
no literal of three or more letters (nor a digit) runs on every message, so prefer patterns
built around real words.

Adding a language: copy ``en.toml`` to ``<code>.toml`` (two or three letters), translate the
phrases family by family (chat spellings included), and add ``tests/test_signals_<code>.py``
with positives and near misses per family; ``available_languages()`` picks the file up.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from trygg.taxonomy import ALL_FAMILIES

#: Families whose entries extract a number (the stated age) into ``Signal.value``.
VALUE_FAMILIES: frozenset[str] = frozenset({"age_disclosure", "implied_age", "ascribed_age"})
#: The pack of language-independent cues (app names, payment brands, "13/f"); not a language.
COMMON_PACK = "common"

_CODE_RE = re.compile(r"^[a-z]{2,3}$")
_ID_RE = re.compile(r"^[a-z0-9_]+$")
_MACRO_RE = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")
_ENTRY_KEYS = frozenset({"id", "pattern", "score", "value_group", "value", "value_offset", "note"})
_TOP_KEYS = frozenset({"pack", "macros"})
# Escapes such as \b \W \S \A \Z are upper/lower case by design; strip them before the case check.
_ESCAPE_RE = re.compile(r"\\.")
_GROUP_NAME_RE = re.compile(r"\(\?P[<=]([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class PatternEntry:
    """One validated pattern of one family in one pack."""

    id: str
    family: str
    pack: str
    pattern: str  # after macro expansion
    regex: re.Pattern[str]
    score: float
    value_group: str | None = None
    value: int | None = None
    value_offset: int = 0
    note: str | None = None

    @property
    def pattern_id(self) -> str:
        """Globally unique id, ``<pack>:<entry id>``, used as ``Signal.pattern_id``."""
        return f"{self.pack}:{self.id}"

    def extract_value(self, match: re.Match[str]) -> int | None:
        """The number this match states (e.g. the age), or ``None`` for families without one."""
        if self.value is not None:
            return self.value
        if self.value_group is None:
            return None
        raw = match.group(self.value_group)
        return None if raw is None else int(raw) + self.value_offset


@dataclass(frozen=True, slots=True)
class LanguagePack:
    """All entries of one pack, grouped by family, each family sorted strongest first."""

    code: str
    name: str
    version: int
    source: str
    families: dict[str, tuple[PatternEntry, ...]]
    #: Words of the first and second person (``[pack] first_person`` / ``second_person``):
    #: whom a life-stage cue is about ("after MY fritids" vs "I'll pick YOU up after fritids",
    #: :mod:`trygg.age.addressee`). Empty in a pack that lists none.
    first_person: frozenset[str] = frozenset()
    second_person: frozenset[str] = frozenset()

    def entries(self, family: str) -> tuple[PatternEntry, ...]:
        return self.families.get(family, ())

    def pattern_count(self) -> dict[str, int]:
        return {family: len(entries) for family, entries in self.families.items()}


def _packs_dir() -> Path:
    return Path(str(resources.files("trygg.lang")))


def available_languages() -> list[str]:
    """Codes of the language packs shipped (``common`` is not a language and is left out)."""
    return list(_available())


@cache
def _available() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in _packs_dir().glob("*.toml") if p.stem != COMMON_PACK and _CODE_RE.match(p.stem)))


@cache
def load_pack(code: str) -> LanguagePack:
    """Load and validate the shipped pack ``<code>.toml`` (cached: packs are read once)."""
    if not isinstance(code, str) or not (code == COMMON_PACK or _CODE_RE.match(code)):
        raise ValueError(f"language code must be 2-3 lower-case letters or {COMMON_PACK!r}, got {code!r}")
    path = _packs_dir() / f"{code}.toml"
    if not path.is_file():
        raise ValueError(
            f"no language pack for {code!r}; available: {', '.join(available_languages())} "
            f"(add src/trygg/lang/{code}.toml to support it)"
        )
    return load_pack_file(path)


def load_pack_file(path: str | Path) -> LanguagePack:
    """Load and validate one pack file; every error names the file, family and entry id."""
    path = Path(path)
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: not valid TOML: {exc}") from exc
    header = data.get("pack")
    if not isinstance(header, dict):
        raise ValueError(f"{where}: missing [pack] table with 'language'")
    code = header.get("language")
    if code != path.stem:
        raise ValueError(f"{where}: [pack] language = {code!r} must equal the file name {path.stem!r}")
    version = header.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"{where}: [pack] version must be an integer")
    macros = _read_macros(data.get("macros", {}), where)

    families: dict[str, tuple[PatternEntry, ...]] = {}
    seen_ids: set[str] = set()
    for key, value in data.items():
        if key in _TOP_KEYS:
            continue
        if key not in ALL_FAMILIES:
            raise ValueError(f"{where}: unknown signal family {key!r}; known: {', '.join(ALL_FAMILIES)}")
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            raise ValueError(f"{where}: family {key!r} must be an array of tables ([[{key}]])")
        entries = [_read_entry(raw, key, code, macros, where, seen_ids) for raw in value]
        families[key] = tuple(sorted(entries, key=lambda e: -e.score))
    return LanguagePack(
        code=code,
        name=str(header.get("name", code)),
        version=version,
        source=where,
        families=families,
        first_person=_read_words(header, "first_person", where),
        second_person=_read_words(header, "second_person", where),
    )


def _read_words(header: dict[str, Any], key: str, where: str) -> frozenset[str]:
    raw = header.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(w, str) and w and w == w.casefold() and " " not in w for w in raw):
        raise ValueError(f"{where}: [pack] {key} must be a list of lower-case single words")
    return frozenset(raw)


def _read_macros(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: [macros] must be a table of strings")
    macros: dict[str, str] = {}
    for name, value in raw.items():
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name) or not isinstance(value, str):
            raise ValueError(f"{where}: macro {name!r} must be an UPPER_CASE name with a string value")
        # A macro may use the macros defined above it (a price names its pictures with PIC).
        value = _expand(value, macros, f"{where}: macro {name!r}")
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{where}: macro {name!r} is not a valid regex: {exc}") from exc
        macros[name] = value
    return macros


def _expand(pattern: str, macros: dict[str, str], context: str) -> str:
    def repl(m: re.Match[str]) -> str:
        try:
            return macros[m.group(1)]
        except KeyError:
            raise ValueError(f"{context}: unknown macro {{{m.group(1)}}}") from None

    return _MACRO_RE.sub(repl, pattern)


def _read_entry(
    raw: dict[str, Any], family: str, pack: str, macros: dict[str, str], where: str, seen_ids: set[str]
) -> PatternEntry:
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not _ID_RE.match(entry_id):
        raise ValueError(f"{where}: family {family!r}: entry id {entry_id!r} must match [a-z0-9_]+")
    ctx = f"{where}: family {family!r}, entry {entry_id!r}"
    if entry_id in seen_ids:
        raise ValueError(f"{ctx}: duplicate id (ids are unique within a pack)")
    seen_ids.add(entry_id)
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise ValueError(f"{ctx}: unknown keys {sorted(unknown)}; allowed: {sorted(_ENTRY_KEYS)}")

    pattern = raw.get("pattern")
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValueError(f"{ctx}: 'pattern' must be a non-empty string")
    pattern = _expand(pattern, macros, ctx)
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{ctx}: bad regex: {exc}") from exc
    if regex.match(""):
        raise ValueError(f"{ctx}: pattern matches the empty string")
    literal_text = _GROUP_NAME_RE.sub("(", _ESCAPE_RE.sub("", pattern))
    if any(ch.isupper() for ch in literal_text):
        raise ValueError(f"{ctx}: pattern has upper-case letters but runs on casefolded text")

    score = raw.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0.0 < float(score) <= 1.0:
        raise ValueError(f"{ctx}: score must be a number in (0, 1], got {score!r}")

    value_group = raw.get("value_group")
    value = raw.get("value")
    value_offset = raw.get("value_offset", 0)
    if family in VALUE_FAMILIES:
        if (value_group is None) == (value is None):
            raise ValueError(f"{ctx}: {family} entries need exactly one of 'value_group' or 'value'")
    elif value_group is not None or value is not None or "value_offset" in raw:
        raise ValueError(f"{ctx}: only {sorted(VALUE_FAMILIES)} entries carry a value")
    if value_group is not None and (not isinstance(value_group, str) or value_group not in regex.groupindex):
        raise ValueError(f"{ctx}: value_group {value_group!r} is not a named group of the pattern")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{ctx}: value must be an integer, got {value!r}")
    if isinstance(value_offset, bool) or not isinstance(value_offset, int):
        raise ValueError(f"{ctx}: value_offset must be an integer, got {value_offset!r}")
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        raise ValueError(f"{ctx}: note must be a string")

    return PatternEntry(
        id=entry_id,
        family=family,
        pack=pack,
        pattern=pattern,
        regex=regex,
        score=float(score),
        value_group=value_group,
        value=value,
        value_offset=value_offset,
        note=note,
    )
