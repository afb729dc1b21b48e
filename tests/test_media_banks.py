"""Hash banks in the database, and matching that follows them as they change."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytest.importorskip("pdqhash", reason="needs the 'media' extra")

from test_media_support import blocks, jpeg  # noqa: E402
from trygg.media.banks import TAKE_IT_DOWN_BANK, BankStore, EntrySpec, parse_hash_lines  # noqa: E402
from trygg.media.errors import BankError  # noqa: E402
from trygg.media.hashing import hash_bytes  # noqa: E402
from trygg.media.matcher import Matcher  # noqa: E402

PDQ_A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
PDQ_B = "accb6d39648035f8125c8ce6ba65007de7b54c67a2d93ef7b8f33b0611306715"
MD5 = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def store(database_url: str) -> BankStore:
    return BankStore(database_url)


def test_create_and_list(store: BankStore) -> None:
    store.create_bank("ncmec", source="NCMEC hash sharing", action="block")
    store.create_bank("local", source="our moderators", threshold=20, action="hold_for_review")
    banks = {b.name: b for b in store.list_banks()}
    assert set(banks) == {"ncmec", "local"}
    assert banks["local"].threshold == 20 and banks["local"].action == "hold_for_review"
    assert banks["ncmec"].source == "NCMEC hash sharing" and banks["ncmec"].entries == 0
    assert banks["ncmec"].created_at.tzinfo is not None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "Bad Name"}, "bank name"),
        ({"name": "x", "action": "allow"}, "bank action"),
        ({"name": "x", "action": "explode"}, "bank action"),
        ({"name": "x", "threshold": 40}, "threshold 40"),
    ],
)
def test_create_rejects_bad_settings(store: BankStore, kwargs: dict, message: str) -> None:
    with pytest.raises(BankError, match=message):
        store.create_bank(**kwargs)


def test_duplicate_and_unknown_banks(store: BankStore) -> None:
    store.create_bank("local")
    with pytest.raises(BankError, match="already exists"):
        store.create_bank("local")
    with pytest.raises(BankError, match=r"no bank named 'nope' \(banks: local\)"):
        store.add_entries("nope", [EntrySpec(pdq=PDQ_A)])


def test_entry_validation() -> None:
    with pytest.raises(ValueError, match="needs a pdq, md5 or sha256"):
        EntrySpec()
    with pytest.raises(ValueError, match="pdq must be 64 hex digits"):
        EntrySpec(pdq="abc")
    with pytest.raises(ValueError, match="md5 must be 32 hex digits"):
        EntrySpec(md5=PDQ_A)
    with pytest.raises(ValueError, match="needs a video_key"):
        EntrySpec(pdq=PDQ_A, kind="video_frame")
    assert EntrySpec(pdq=PDQ_A.upper()).pdq == PDQ_A


def test_plain_and_csv_parsing() -> None:
    plain = parse_hash_lines(["# exported list\n", PDQ_A + "\n", "\n", PDQ_B.upper() + "\n"])
    assert [s.pdq for s in plain] == [PDQ_A, PDQ_B]
    md5s = parse_hash_lines([MD5 + "\n"], hash_type="md5")
    assert md5s[0].md5 == MD5 and md5s[0].pdq is None
    csv_specs = parse_hash_lines(["PDQ,Quality,label,extra\n", f"{PDQ_A},100,seed,x\n", f"{PDQ_B},,,\n"])
    assert [(s.pdq, s.quality, s.label) for s in csv_specs] == [(PDQ_A, 100, "seed"), (PDQ_B, None, None)]
    hash_col = parse_hash_lines(["hash\n", MD5 + "\n"], hash_type="md5")
    assert hash_col[0].md5 == MD5


def test_bad_lines_are_all_named_and_nothing_is_imported(store: BankStore, tmp_path: Path) -> None:
    store.create_bank("stopncii")
    path = tmp_path / "list.txt"
    path.write_text(f"{PDQ_A}\nnot-a-hash\n{PDQ_B}\n{PDQ_A[:-1]}\n")
    with pytest.raises(BankError) as info:
        store.import_file("stopncii", path)
    message = str(info.value)
    assert "2 bad line(s), nothing imported" in message
    assert "line 2: pdq must be 64 hex digits" in message and "line 4:" in message
    assert store.get_bank("stopncii").entries == 0


def test_import_export_round_trip(store: BankStore, tmp_path: Path) -> None:
    store.create_bank("ncmec")
    src = tmp_path / "ncmec.csv"
    src.write_text(f"pdq,md5,quality\n{PDQ_A},{MD5},100\n{PDQ_B},,90\n")
    assert store.import_file("ncmec", src) == 2
    entries = list(store.entries("ncmec"))
    assert [e.source for e in entries] == ["import:ncmec.csv"] * 2
    out = io.StringIO()
    assert store.export("ncmec", out, "csv") == 2
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("pdq,quality,md5,sha256")
    assert lines[1].startswith(f"{PDQ_A},100,{MD5},")
    plain = io.StringIO()
    assert store.export("ncmec", plain, "plain", "md5") == 1
    assert plain.getvalue() == MD5 + "\n"
    # The exported CSV imports into another bank unchanged.
    store.create_bank("copy")
    (tmp_path / "out.csv").write_text(out.getvalue())
    assert store.import_file("copy", tmp_path / "out.csv") == 2
    assert [(e.pdq, e.md5, e.quality) for e in store.entries("copy")] == [(e.pdq, e.md5, e.quality) for e in entries]


def test_matcher_follows_adds_and_removes(store: BankStore) -> None:
    store.create_bank("local")
    matcher = Matcher(store)
    picture = hash_bytes(jpeg(blocks(seed=5)))
    assert matcher.match(picture) == []
    (entry_id,) = store.add_entries("local", [EntrySpec(pdq=picture.pdq, quality=picture.quality, label="case 7")])
    hits = matcher.match(picture)
    assert [(m.bank, m.entry_id, m.match, m.distance, m.label) for m in hits] == [("local", entry_id, "pdq", 0, "case 7")]
    assert store.remove_entries("local", hashes=[picture.pdq]) == 1
    assert matcher.match(picture) == []
    # A fresh matcher loads what is in the database.
    store.add_entries("local", [EntrySpec(sha256=picture.sha256)])
    assert [m.match for m in Matcher(store, follow=False).match(picture)] == ["sha256"]


def test_low_quality_entries_are_not_pdq_matched(store: BankStore) -> None:
    store.create_bank("local")
    store.add_entries("local", [EntrySpec(pdq=PDQ_A, quality=36)])
    matcher = Matcher(store)
    assert matcher.match_pdq([PDQ_A], quality=100) == []
    assert matcher.match_pdq([PDQ_A], quality=30) == []


def test_bank_threshold_is_applied(store: BankStore) -> None:
    store.create_bank("strict", threshold=4)
    store.create_bank("loose")
    store.add_entries("strict", [EntrySpec(pdq=PDQ_A)])
    store.add_entries("loose", [EntrySpec(pdq=PDQ_A)])
    near = f"{int(PDQ_A, 16) ^ 0b11111:064x}"  # 5 bits away
    assert [m.bank for m in Matcher(store).match_pdq([near], None)] == ["loose"]


def test_take_it_down_creates_its_bank_and_matches(store: BankStore) -> None:
    picture = hash_bytes(jpeg(blocks(seed=9)))
    entry = store.take_it_down(pdq=picture.pdq, md5=picture.md5, quality=picture.quality)
    info = store.get_bank(TAKE_IT_DOWN_BANK)
    assert info.action == "block" and info.entries == 1
    second = store.take_it_down(sha256="ab" * 32)
    assert second > entry
    matches = Matcher(store).match(picture)
    assert {(m.bank, m.match) for m in matches} == {(TAKE_IT_DOWN_BANK, "md5")}  # exact first, PDQ deduplicated
    with pytest.raises(BankError, match="needs a pdq"):
        store.take_it_down()


def test_removed_ids_are_never_reused(store: BankStore) -> None:
    store.create_bank("local")
    (first,) = store.add_entries("local", [EntrySpec(pdq=PDQ_A)])
    store.remove_entries("local", ids=[first])
    (second,) = store.add_entries("local", [EntrySpec(pdq=PDQ_B)])
    assert second > first
