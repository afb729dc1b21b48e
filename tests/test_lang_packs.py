"""Language packs: loading, validation errors that name file/family/entry, and the prefilter.

The prefilter (literal analysis + Aho-Corasick) may only ever *skip work*: a property test
checks that every entry whose regex matches a text is among the candidates for that text.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from trygg.lang import COMMON_PACK, available_languages, load_pack, load_pack_file
from trygg.signals.base import ALL_FAMILIES
from trygg.signals.detect import _signal, detector_for, packs_for
from trygg.signals.prefilter import needs_digit, required_literals
from trygg.text.normalize import normalize


def test_shipped_languages() -> None:
    langs = available_languages()
    assert {"sv", "en", "de", "nl"} <= set(langs)
    assert COMMON_PACK not in langs


@pytest.mark.parametrize("code", ["sv", "en", "de", "nl", COMMON_PACK])
def test_shipped_packs_load_and_cover_families(code: str) -> None:
    pack = load_pack(code)
    assert pack.code == code
    assert load_pack(code) is pack  # cached
    assert set(pack.families) <= set(ALL_FAMILIES)
    for family, entries in pack.families.items():
        scores = [e.score for e in entries]
        assert scores == sorted(scores, reverse=True), f"{code}/{family} not strongest-first"
        for e in entries:
            assert 0 < e.score <= 1
            assert e.pattern_id == f"{code}:{e.id}"


@pytest.mark.parametrize("code", ["sv", "en", "de", "nl"])
def test_language_packs_cover_every_family(code: str) -> None:
    assert set(load_pack(code).families) == set(ALL_FAMILIES)


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"no language pack for 'fr'.*available: de, en, nl, sv"):
        load_pack("fr")
    with pytest.raises(ValueError, match="2-3 lower-case letters"):
        load_pack("../etc/passwd")


def test_languages_without_pack_fall_back_to_sv_en_common() -> None:
    assert packs_for("other") == ("sv", "en", COMMON_PACK)
    assert packs_for("fr") == ("sv", "en", COMMON_PACK)
    assert packs_for("de") == ("de", "sv", "en", COMMON_PACK)  # own pack first since issue 9
    assert packs_for("nl") == ("nl", "sv", "en", COMMON_PACK)
    assert packs_for("en") == ("en", "sv", COMMON_PACK)
    assert packs_for("sv") == ("sv", "en", COMMON_PACK)


GOOD_ENTRY = """
[[secrecy]]
id = "our_secret"
pattern = '''\\bour secret\\b'''
score = 0.8
"""


def _write(tmp_path: Path, body: str, name: str = "xx") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'[pack]\nlanguage = "{name}"\nname = "Test"\n{body}', encoding="utf-8")
    return path


def test_minimal_pack_loads(tmp_path: Path) -> None:
    pack = load_pack_file(_write(tmp_path, GOOD_ENTRY))
    (entry,) = pack.entries("secrecy")
    assert entry.regex.search("this is our secret ok")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[grooming_words]]\nid = "a"\npattern = "x{2}"\nscore = 0.5\n', r"unknown signal family 'grooming_words'"),
        ('[[secrecy]]\nid = "broken"\npattern = "(unclosed"\nscore = 0.5\n', r"family 'secrecy', entry 'broken': bad regex"),
        ('[[secrecy]]\nid = "too_strong"\npattern = "abc"\nscore = 1.5\n', r"entry 'too_strong': score must be"),
        ('[[secrecy]]\nid = "zero"\npattern = "abc"\nscore = 0\n', r"entry 'zero': score must be"),
        ('[[secrecy]]\nid = "caps"\npattern = "Our Secret"\nscore = 0.5\n', r"entry 'caps': pattern has upper-case"),
        ('[[secrecy]]\nid = "empty"\npattern = "x?"\nscore = 0.5\n', r"entry 'empty': pattern matches the empty string"),
        ('[[secrecy]]\nid = "typo"\npattern = "abc"\nscore = 0.5\nscroe = 1\n', r"entry 'typo': unknown keys \['scroe'\]"),
        ('[[secrecy]]\nid = "m"\npattern = "{NOPE}"\nscore = 0.5\n', r"entry 'm': unknown macro \{NOPE\}"),
        ('[[secrecy]]\nid = "v"\npattern = "abc"\nscore = 0.5\nvalue = 3\n', r"entry 'v': only \['age_disclosure', 'ascribed_age', 'implied_age'\]"),
        ('[[age_disclosure]]\nid = "noval"\npattern = "abc"\nscore = 0.5\n', r"entry 'noval': age_disclosure entries need"),
        (
            '[[age_disclosure]]\nid = "grp"\npattern = "(?P<n>[0-9]+)"\nscore = 0.5\nvalue_group = "age"\n',
            r"entry 'grp': value_group 'age' is not a named group",
        ),
        ('[[secrecy]]\nid = "Bad-Id"\npattern = "abc"\nscore = 0.5\n', r"entry id 'Bad-Id' must match"),
        (GOOD_ENTRY + GOOD_ENTRY, r"entry 'our_secret': duplicate id"),
        ("[[secrecy]\n", r"not valid TOML"),
    ],
)
def test_validation_errors_name_file_family_and_entry(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ValueError, match=message) as info:
        load_pack_file(path)
    assert str(path) in str(info.value)


def test_pack_language_must_match_file_name(tmp_path: Path) -> None:
    path = tmp_path / "yy.toml"
    path.write_text('[pack]\nlanguage = "zz"\n' + GOOD_ENTRY, encoding="utf-8")
    with pytest.raises(ValueError, match="must equal the file name 'yy'"):
        load_pack_file(path)


def test_macros_expand(tmp_path: Path) -> None:
    body = '[macros]\nYOU = "(?:you|u)"\n[[secrecy]]\nid = "a"\npattern = \'\'\'\\bdon\'t tell {YOU}\\b\'\'\'\nscore = 0.5\n'
    (entry,) = load_pack_file(_write(tmp_path, body)).entries("secrecy")
    assert entry.regex.search("don't tell u")


# ------------------------------------------------------------------ prefilter soundness


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bsnap ?chat\b|\btelegram\b", {"snapchat", "snap chat", "telegram"}),
        (r"\bhow old\s*\?", {"how old"}),
        (r"\b(?:are|r) (?:you|u) x", {"are you x", "are u x", "r you x", "r u x"}),
    ],
)
def test_required_literals(pattern: str, expected: set[str]) -> None:
    assert required_literals(pattern) == expected


def test_patterns_without_long_literals_fall_back_safely() -> None:
    assert required_literals(r"^(?P<age>1[0-9])\s*$") is None
    assert needs_digit(r"^(?P<age>1[0-9])\s*$")
    assert required_literals(r"\w+ing") == {"ing"}
    assert required_literals(r"[a-z]+ (?:a|b)") is None
    assert not needs_digit(r"[a-z]+ (?:a|b)")


def _fragments(codes: tuple[str, ...] = ("sv", "en", COMMON_PACK)) -> list[str]:
    """Literal pieces of every shipped pattern, to build texts that come near many patterns."""
    pieces: set[str] = set()
    for code in codes:
        for entries in load_pack(code).families.values():
            for e in entries:
                pieces.update(w for w in re.findall(r"[a-zåäö0-9'’/:$-]+(?: [a-zåäö0-9'’/:$-]+)*", e.pattern) if len(w) > 1)
    return sorted(pieces)


@pytest.mark.parametrize("language", ["other", "de", "nl"])
def test_prefilter_never_hides_a_match(language: str) -> None:
    """Every entry that matches must be a candidate (random texts from pack vocabulary)."""
    rng = random.Random(20260329)
    own = () if language == "other" else (language,)
    fragments = _fragments(own + ("sv", "en", COMMON_PACK)) + ["13", "24", "7th", "går", "i", "du", "you", "me", "my", "?", ",", "ur", "u"]
    fragments += ["7b", "groep 7", "ik", "ich"] if own else []
    detector = detector_for(language)
    matched = 0
    for _ in range(3000):
        text = " ".join(rng.choice(fragments) for _ in range(rng.randint(1, 8)))
        text = normalize(text).text
        candidates = {e.pattern_id for e in detector.candidates(text)}
        for entry in detector._entries:  # brute force: every entry, filtered or not
            if entry.regex.search(text):
                matched += 1
                assert entry.pattern_id in candidates, (entry.pattern_id, text)
    assert matched > 500, "the random texts should exercise many patterns"


# ------------------------------------------------------------------ speed guard

REALISTIC = [
    "haha ok see you at practice tomorrow, dont forget your boots!!",
    "can you send me the homework for tuesday? i lost the sheet lol",
    "hur gick provet idag? jag tror jag klarade det typ, matten var svår",
    "we're getting pizza after the game, want to come with us later?",
    "mamma säger att vi ska äta middag kl 18 så kom hem innan dess ok",
    "omg did you see the new episode last night, i can't believe it",
    "add me on snap its more private, whats ur username btw?",
    "jag e 13 och går i sjuan, hur gammal e du då?",
    "my train is 15 minutes late again, i'll be there around 9:30",
    "ska vi spela fortnite ikväll? jag har nya skins att visa dig",
]


def test_detection_stays_fast() -> None:
    """A loose guard (5x the 40 µs budget) against a pattern that defeats the prefilter."""
    import time
    import timeit

    messages = [normalize(m) for m in REALISTIC] * 50
    detector_for("sv").detect(messages[0], "w", "sv")
    run = detector_for("sv").detect
    seconds = min(
        timeit.repeat(lambda: [run(m, "e", "sv") for m in messages], number=1, repeat=3, timer=time.process_time)
    )
    assert seconds / len(messages) < 200e-6


def test_digit_gated_entries_are_candidates_only_with_a_digit() -> None:
    """Entries whose only rare part is a number ("what about you" + age) are scanned for only
    when the text has a digit; their short literals alone must not make them candidates."""
    detector = detector_for("other")
    assert "en:age_back_question" not in {e.pattern_id for e in detector.candidates("what about you")}
    assert "en:age_back_question" in {e.pattern_id for e in detector.candidates("what about you 13")}
    assert "sv:ar_n_utan_jag" not in {e.pattern_id for e in detector.candidates("jag är")}
    assert "sv:ar_n_utan_jag" in {e.pattern_id for e in detector.candidates("jag är 13")}
    assert detector.candidates("") == []


def test_cached_matches_give_the_same_signals_for_each_event() -> None:
    """Short texts' matches are cached per detector; a repeat must still get its own event id,
    language and span in its own original text, equal to what an uncached detection reports."""
    from trygg.lang import load_pack
    from trygg.signals.detect import Detector

    detector = Detector([load_pack(code) for code in packs_for("sv")])
    first = normalize("jag e 13 och går i sjuan, add me on snap")
    again = normalize("JAG  E 13 och går i sjuan,  add me on snap")  # same normalised text, other offsets
    assert first.text == again.text and first.offsets != again.offsets
    first_signals = detector.detect(first, "e1", "sv")
    again_signals = detector.detect(again, "e2", "en")
    assert detector._found_cached.cache_info().hits == 1
    assert {s.name for s in first_signals} >= {"age_disclosure", "platform_migration"}
    for normalized, event_id, language, signals in (
        (first, "e1", "sv", first_signals),
        (again, "e2", "en", again_signals),
    ):
        uncached = [_signal(*match, normalized, event_id, language) for match in detector._find(normalized.text)]
        assert signals == uncached
        assert all(s.event_id == event_id for s in signals)
    assert [s.span for s in first_signals] != [s.span for s in again_signals]
    assert {s.language for s in again_signals if s.pattern_id.startswith("common:")} <= {"en"}


def test_match_cache_is_bounded_and_skips_long_texts() -> None:
    from trygg.lang import load_pack
    from trygg.signals.detect import _CACHE_SIZE, Detector
    from trygg.text.short_texts import SHORT_TEXT_CHARS

    detector = Detector([load_pack(code) for code in packs_for("en")])
    for i in range(_CACHE_SIZE + 100):
        detector.detect(normalize(f"text number {i}"), "e", "en")
    assert detector._found_cached.cache_info().currsize == _CACHE_SIZE
    before = detector._found_cached.cache_info()
    detector.detect(normalize("send me a pic " * (SHORT_TEXT_CHARS // 10)), "e", "en")
    assert detector._found_cached.cache_info() == before


def test_a_macro_may_use_the_macros_defined_above_it(tmp_path) -> None:
    """Packs build sets from sets (a price's pictures end in the 'not of a thing' guard)."""
    from trygg.lang.pack import load_pack_file

    source = (
        '[pack]\nlanguage = "xx"\nname = "Test"\nversion = 1\n'
        '[macros]\nPIC = "(?:pic|photo)"\nPAID = "(?:[0-9]+ bucks for a {PIC})"\n'
        "[[gift_or_money_offer]]\nid = \"paid\"\npattern = '''\\b{PAID}\\b'''\nscore = 0.9\n"
    )
    (tmp_path / "xx.toml").write_text(source, encoding="utf-8")
    pack = load_pack_file(tmp_path / "xx.toml")
    (entry,) = pack.families["gift_or_money_offer"]
    assert entry.regex.search("20 bucks for a photo") and not entry.regex.search("20 bucks for a bike")
    later = source.replace('PIC = "(?:pic|photo)"\nPAID = "(?:[0-9]+ bucks for a {PIC})"', 'PAID = "(?:[0-9]+ bucks for a {PIC})"\nPIC = "(?:pic|photo)"')
    (tmp_path / "xx.toml").write_text(later, encoding="utf-8")
    with pytest.raises(ValueError, match="unknown macro"):
        load_pack_file(tmp_path / "xx.toml")
