"""Obfuscated writing is detected like the plain form, with the span on what was really sent.

Homoglyphs (Cyrillic а/о/е/ѕ), spacing and dots between letters, leetspeak and stretched
letters are undone by ``trygg.text.normalize``; these tests check the whole path, normaliser
plus packs, so a change in either that loses a variant fails here.
"""

from __future__ import annotations

import pytest

from trygg.signals.detect import detect_signals
from trygg.text.normalize import normalize

# (obfuscated text, plain equivalent, family, the obfuscated word the span must cover)
CASES = [
    ("add me on ѕnаpchаt", "add me on snapchat", "platform_migration", "ѕnаpchаt"),  # Cyrillic ѕ, а
    ("аdd mе оn snаp", "add me on snap", "platform_migration", "snаp"),  # Cyrillic а, е, о
    ("add me on s n a p c h a t", "add me on snapchat", "platform_migration", "s n a p c h a t"),
    ("har du s.n.a.p?", "har du snap?", "platform_migration", "s.n.a.p"),
    ("har du sn4pch4t", "har du snapchat", "platform_migration", "sn4pch4t"),
    ("add me on sn@p", "add me on snap", "platform_migration", "sn@p"),
    ("lets move to t3l3gram", "lets move to telegram", "platform_migration", "t3l3gram"),
    ("vi kan ta det på d1sc", "vi kan ta det på disc", "platform_migration", "d1sc"),
    ("hmu on disc0rd", "hmu on discord", "platform_migration", "disc0rd"),
    ("ＡＤＤ ＭＥ ＯＮ ＳＮＡＰ", "add me on snap", "platform_migration", "ＳＮＡＰ"),  # fullwidth
    ("send n00dz", "send nudes", "image_request", "n00dz"),
    ("send nudez", "send nudes", "image_request", "nudez"),
    ("send me some private p1cs", "send me some private pics", "image_request", "p1cs"),
    ("heeeej hur gaaammal är duuu", "hej hur gammal är du", "age_inquiry", "gaaammal"),
    ("how oooold r uuu", "how old r u", "age_inquiry", "oooold"),
    ("säg inget till nååån", "säg inget till nån", "secrecy", "nååån"),
    ("dont t.e.l.l anyone", "dont tell anyone", "secrecy", "t.e.l.l"),
    ("our little sеcrеt", "our little secret", "secrecy", "sеcrеt"),  # Cyrillic е
    ("du är så mоgen för din ålder", "du är så mogen för din ålder", "compliments_trust", "mоgen"),
    ("i'll send your p1cs to everyone", "i'll send your pics to everyone", "threat", "everyone"),
]


@pytest.mark.parametrize(("text", "plain", "family", "word"), CASES, ids=[f"{i:02d}-{c[2]}" for i, c in enumerate(CASES)])
def test_obfuscated_like_plain(text: str, plain: str, family: str, word: str) -> None:
    obfuscated = {s.name: s for s in detect_signals(normalize(text), "o1", "other")}
    clear = {s.name: s for s in detect_signals(normalize(plain), "p1", "other")}
    assert family in clear, f"plain form not detected: {plain!r}"
    assert family in obfuscated, f"obfuscated form missed: {text!r} -> {normalize(text).text!r}"
    assert obfuscated[family].score == clear[family].score
    start, end = obfuscated[family].span  # type: ignore[misc]
    assert word in text[start:end], (text[start:end], word)


def test_stated_age_survives_obfuscation() -> None:
    ages = [s for s in detect_signals(normalize("іm 13 yо"), "o1", "en") if s.name == "age_disclosure"]  # Cyrillic і, о
    assert [s.value for s in ages] == [13]
