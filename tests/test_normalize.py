"""Tests for trygg.text.normalize: each rule, obfuscated forms, offsets and invariants."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trygg.text.normalize import NormalizedText, normalize


def norm(text: str) -> str:
    return normalize(text).text


def check_invariants(result: NormalizedText) -> None:
    assert len(result.offsets) == len(result.text) + 1
    assert result.offsets[-1] == len(result.original)
    assert all(0 <= o <= len(result.original) for o in result.offsets)
    assert all(a <= b for a, b in zip(result.offsets, result.offsets[1:]))


@pytest.mark.parametrize(
    ("obfuscated", "expected"),
    [
        ("sn4p", "snap"),
        ("t3legram", "telegram"),
        ("p1cs", "pics"),
        ("d1sc", "disc"),
        ("disc0rd", "discord"),
        ("sn@p", "snap"),
        ("n00dz", "noodz"),
        ("$nap", "snap"),
        ("h4x0r", "haxor"),
        ("hell0", "hello"),
        ("s n a p", "snap"),
        ("s.n.a.p", "snap"),
        ("s-n-a-p", "snap"),
        ("s_n_a_p", "snap"),
        ("s*n*a*p", "snap"),
        ("s . n . a . p", "snap"),
        ("t e l e g r a m", "telegram"),
        ("s n 4 p", "snap"),
        ("ＳＮＡＰ", "snap"),
        ("𝐬𝐧𝐚𝐩", "snap"),
        ("ⓢⓝⓐⓟ", "snap"),
        ("ꜱɴᴀᴘ", "snap"),
        ("ѕnар", "snap"),  # Cyrillic ѕ а р
        ("ѕηαρ", "snap"),  # Cyrillic ѕ, Greek η α ρ
        ("s\u200bn\u00ada\u200dp", "snap"),  # zero-width space, soft hyphen, zero-width joiner
        ("s\u0336n\u0336a\u0336p\u0336", "snap"),  # strike-through combining marks
        ("\u202esnap", "snap"),  # bidi override
        ("heeeej", "hej"),
        ("sooo", "so"),
        ("plzzzz", "plz"),
        ("ﬁne", "fine"),
        ("🅢🅝🅐🅟", "snap"),
        ("🆂🅽🅰🅿", "snap"),
        ("s–n–a–p", "snap"),  # en dashes
        ("s•n•a•p", "snap"),
        ("I’M 13", "i'm 13"),
    ],
)
def test_obfuscated_forms(obfuscated: str, expected: str) -> None:
    assert norm(obfuscated) == expected


@pytest.mark.parametrize(
    "text",
    ["13", "13 år", "13år", "13/f", "13f", "i'm 12", "7th grade", "12yo", "1337", "2008", "kl 18",
     "20:00", "50kr", "100 robux", "tjej13", "åk 7", "born 2010", "mp3", "user115s", "ab12cd"],
)
def test_numbers_survive(text: str) -> None:
    assert norm(text) == text


@pytest.mark.parametrize(
    ("lookalike", "latin"),
    list(zip("аеорсухкмтнвіјѕ", "aeopcyxkmthbijs")) + list(zip("αορεικντυχ", "aopeikvtux"))
    + list(zip("АЕОРСХКМТНВ", "aeopcxkmthb")),
)
def test_homoglyphs(lookalike: str, latin: str) -> None:
    assert norm(f"z{lookalike}q") == f"z{latin}q"


def test_numbers_in_other_forms() -> None:
    assert norm("１３ år") == "13 år"  # fullwidth digits
    assert norm("1\ufe0f\u20e33\ufe0f\u20e3") == "13"  # keycap emoji
    assert norm("jag är ¹³") == "jag är 13"
    assert norm("$50 for pics") == "$50 for pics"


def test_case_folding_keeps_swedish_letters() -> None:
    assert norm("ÅR ÄR ÖL") == "år är öl"
    assert norm("år") != norm("ar")
    assert norm("a\u030ar") == "år"  # decomposed å is composed


def test_other_diacritics_are_removed() -> None:
    assert norm("Idé über café") == "ide uber cafe"


def test_double_letters_stay() -> None:
    assert norm("hallå good sitt") == "hallå good sitt"


def test_whitespace_collapses_and_trims() -> None:
    result = normalize("  hej \t\n du  ")
    assert result.text == "hej du"
    check_invariants(result)


def test_punctuation_and_emoji_kept() -> None:
    assert norm("hur gammal e du?? 😘 13/f") == "hur gammal e du?? 😘 13/f"


def test_email_and_url_kept() -> None:
    assert norm("kalle@gmail.com") == "kalle@gmail.com"
    assert norm("www.example.com") == "www.example.com"


def test_ordinary_words_not_joined() -> None:
    assert norm("i am a boy") == "i am a boy"
    assert norm("r u a boy or a girl") == "r u a boy or a girl"
    assert norm("u r a cutie") == "u r a cutie"
    assert norm("i a m") == "i a m"
    assert norm("k.i.k") == "kik"  # punctuation separators: three letters are enough
    assert norm("t.ex. bl.a.") == "t.ex. bl.a."


def test_span_maps_back_to_dotted_word() -> None:
    original = "add me on s.n.a.p"
    result = normalize(original)
    start = result.text.index("snap")
    s, e = result.original_span(start, start + 4)
    assert original[s:e] == "s.n.a.p"


@pytest.mark.parametrize(
    ("original", "word", "source"),
    [
        ("hej ｓｎａｐ plz", "snap", "ｓｎａｐ"),
        ("HEEEEJ du", "hej", "HEEEEJ"),
        ("my sn4p is x", "snap", "sn4p"),
        ("  t e l e g r a m  ", "telegram", "t e l e g r a m"),
        ("go to s\u200bnap now", "snap", "s\u200bnap"),
        ("ﬁne", "f", "ﬁ"),
        ("a   b", " ", "   "),
    ],
)
def test_spans_map_back(original: str, word: str, source: str) -> None:
    result = normalize(original)
    start = result.text.index(word)
    s, e = result.original_span(start, start + len(word))
    assert original[s:e] == source


def test_span_errors_are_precise() -> None:
    result = normalize("hej")
    with pytest.raises(ValueError, match="not inside"):
        result.original_span(2, 5)
    assert result.original_span(1, 1) == (1, 1)


def test_hand_built_instance_is_checked() -> None:
    assert NormalizedText("Hej", "hej", (0, 1, 2, 3)).original_span(0, 3) == (0, 3)
    with pytest.raises(ValueError, match="entries"):
        NormalizedText("Hej", "hej", (0, 1, 2))
    with pytest.raises(ValueError, match="entries"):
        NormalizedText("Hej!", "hej", (0, 1, 2, 3))


def test_rejects_non_str() -> None:
    with pytest.raises(TypeError):
        normalize(b"snap")  # type: ignore[arg-type]


TRICKY = list("sna p.-_*013457@$åäöé?/\t\n") + [
    "\u0301", "\u030a", "\u0336", "\u200b", "\u200d", "\u00ad", "\ufe0f", "\u20e3", "😘", "👨",
    "ﬁ", "ß", "İ", "ｓ", "𝐬", "ѕ", "ρ", "\u3000", "\u2028", "\x00", "\u202e", "①", "½",
]
unicode_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80
) | st.text(alphabet=st.sampled_from(TRICKY), max_size=40)


@settings(max_examples=400, deadline=None)
@given(unicode_text)
def test_never_crashes_and_offsets_are_sound(text: str) -> None:
    result = normalize(text)
    assert result.original == text
    check_invariants(result)
    assert all(o < len(text) for o in result.offsets[:-1])
    assert result.text == result.text.strip(" ") and "  " not in result.text
    assert all(c == " " or not c.isspace() for c in result.text)
    assert not re.search(r"([a-zåäö])\1\1(?<!www)", result.text)
    n = len(result.text)
    for start in range(0, n + 1, max(1, n // 7)):
        for end in range(start, n + 1, max(1, n // 5)):
            s, e = result.original_span(start, end)
            assert 0 <= s <= e <= len(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzåäö ")), max_size=60))
def test_idempotent_on_lowercase_words(text: str) -> None:
    once = norm(text)
    assert norm(once) == once


def test_speed_has_no_pathological_cases() -> None:
    """Generous bound (measured ~11 us per 60-char message): catches regex blow-ups, not noise."""
    messages = [f"hej {i} ｓｎａｐ me p1cs heeeej s.n.a.p add me on t e l e g r a m ❤️ {i}"[:60] for i in range(2000)]
    messages += ["a b " * 8000, "s.n.a.p " * 4000, "a@" * 16000, "\t \n" * 10000]
    start = time.perf_counter()
    for message in messages:
        normalize(message)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("length", [0, 1, 40, 255, 256, 300, 5000])
def test_character_for_character_texts_get_the_identity_map(length: int) -> None:
    """Texts that normalise one character for one share identity offsets (built once per
    length); a rewrite after such a fold still builds its own map."""
    result = normalize(("Hej_på_dig." * 500)[:length])
    assert result.offsets == tuple(range(length + 1))
    stretched = normalize("hej på dig " * 30 + "heeeej")
    check_invariants(stretched)
    assert stretched.text.endswith("hej") and stretched.original_span(len(stretched.text) - 3, len(stretched.text)) == (330, 336)


def test_lower_case_is_the_fold_of_printable_ascii_and_swedish_letters() -> None:
    """The fast path folds such texts with ``str.lower``; it must agree with the full fold."""
    from trygg.text.normalize import _fold_char

    for ch in [chr(i) for i in range(0x20, 0x7F)] + list("åäöÅÄÖ"):
        assert _fold_char(ch) == ch.lower(), repr(ch)
    result = normalize("HEJ Åsa, Är DU där? Öppna!")
    assert result.text == "hej åsa, är du där? öppna!"
    assert result.offsets == tuple(range(len(result.original) + 1))
