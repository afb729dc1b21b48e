"""``trygg rescan --media``: media delivered before a bank knew them are found when the bank
gains an entry, their decisions recorded once, and nothing else is touched."""

from __future__ import annotations

import base64
import io
import json
import random

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("trygg.media.banks", reason="media extra not installed")
from PIL import Image  # noqa: E402

from trygg.cli import app  # noqa: E402
from trygg.cluster.rescan import NewEntry, StoredHashes, hashes_to_words, match_archive, match_block  # noqa: E402
from trygg.compose import Settings, build_pipeline  # noqa: E402
from trygg.events import read_lines  # noqa: E402
from trygg.media.banks import BankStore, EntrySpec  # noqa: E402
from trygg.scan import scan  # noqa: E402
from trygg.store.repository import Store  # noqa: E402


def _flip(hex_hash: str, bits: int) -> str:
    return f"{int(hex_hash, 16) ^ ((1 << bits) - 1):064x}"


def _gradient_png() -> str:
    """A plain colour gradient (no content), as base64 PNG."""
    image = Image.new("RGB", (64, 64))
    image.putdata([(x * 4, y * 4, (x + y) * 2) for y in range(64) for x in range(64)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_match_block_equals_a_bit_by_bit_count() -> None:
    rng = random.Random(4)
    stored = [f"{rng.getrandbits(256):064x}" for _ in range(300)]
    entry = NewEntry(1, "b", stored[7], threshold=100, action="block")
    found = {row: distance for row, _, distance in match_block(hashes_to_words(stored), [entry])}
    expected = {row: bin(int(h, 16) ^ int(entry.pdq, 16)).count("1") for row, h in enumerate(stored)}
    assert found == {row: d for row, d in expected.items() if d <= 100}
    assert found[7] == 0


def test_rescan_finds_media_sent_before_the_bank_knew_them(database_url: str) -> None:
    rng = random.Random(9)
    stored = [f"{rng.getrandbits(256):064x}" for _ in range(50)]
    lines = [json.dumps({"type": "account", "user_id": "kid", "declared_age": 13})]
    lines += [
        json.dumps({"type": "media", "event_id": f"p{i}", "conversation_id": f"c{i % 5}", "sender_id": "x", "recipient_id": "kid", "pdq": h})
        for i, h in enumerate(stored)
    ]
    lines.append(json.dumps({"type": "media", "event_id": "img", "conversation_id": "c0", "sender_id": "x", "recipient_id": "kid", "data": _gradient_png()}))
    store = Store(database_url)
    BankStore(engine=store.engine).create_bank("local", source="test", action="block")
    pipeline = build_pipeline(Settings(model=False, cases=False), store=store)  # the ingest hashes the image
    report = scan(read_lines([line.encode() for line in lines]), pipeline.engine, store, prepare=pipeline.prepare)
    assert report.processed == 51

    archive = StoredHashes.load(store)
    assert len(archive.event_ids) == 51  # the hash computed from the image is stored too
    before = store.counts()["decisions"]

    banks = BankStore(engine=store.engine)
    old = banks.add_entries("local", [EntrySpec(pdq=_flip(stored[3], 64 + 128))])[0]  # far from everything
    new = banks.add_entries("local", [EntrySpec(pdq=_flip(stored[20], 6))])[0]
    runner = CliRunner()
    result = runner.invoke(app, ["rescan", "--media", "--bank", "local", "--after-entry", str(old), "--db", database_url])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary == {**summary, "stored_hashes": 51, "entries": 1, "matches": 1, "decisions_recorded": 1}

    with store.engine.connect() as connection:
        from sqlalchemy import text

        row = connection.execute(text("SELECT actions, reasons, policy FROM decisions WHERE event_id = 'p20'")).one()
    actions, reasons = (json.loads(v) if isinstance(v, str) else v for v in row[:2])  # PostgreSQL gives JSON parsed
    assert {"block", "report"} <= set(actions)
    assert any(r["signal"] == "hash_match" and r["entry"] == new and "distance=6" in r["value"] for r in reasons)
    assert row[2].endswith("+rescan")
    assert store.counts()["decisions"] == before + 1

    again = runner.invoke(app, ["rescan", "--media", "--bank", "local", "--db", database_url])
    assert json.loads(again.output.strip().splitlines()[-1])["decisions_recorded"] == 0


def test_rescan_of_an_unknown_bank_is_a_clear_error(database_url: str) -> None:
    Store(database_url)
    result = CliRunner().invoke(app, ["rescan", "--media", "--bank", "nope", "--db", database_url])
    assert result.exit_code == 2 and "no bank named 'nope'" in result.output


def test_an_empty_archive_matches_nothing() -> None:
    archive = StoredHashes([], np.zeros((0, 4), dtype=np.uint64))
    assert match_archive(archive, [NewEntry(1, "b", "0" * 64, 31, "block")]) == []
