"""Media events through the main job: bank matches become block + report, broken media lose nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("trygg.media.banks", reason="media extra not installed")

from trygg.media.banks import BankStore, EntrySpec  # noqa: E402

BANKED = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _flip(hex_hash: str, bits: int) -> str:
    value = int(hex_hash, 16) ^ ((1 << bits) - 1)
    return f"{value:064x}"


def test_scan_blocks_and_reports_a_bank_match_and_survives_broken_media(tmp_path: Path, database_url: str) -> None:
    db = database_url
    banks = BankStore(db)
    banks.create_bank("local", source="test", action="block")
    banks.add_entries("local", [EntrySpec(pdq=BANKED, quality=100)])
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    events = [
        {"type": "account", "user_id": "kid", "declared_age": 13},
        {"type": "media", "event_id": "m1", "conversation_id": "c1", "sender_id": "x", "recipient_id": "kid", "pdq": _flip(BANKED, 5)},
        {"type": "media", "event_id": "m2", "conversation_id": "c1", "sender_id": "x", "recipient_id": "kid", "path": "broken.jpg"},
        {"type": "media", "event_id": "m3", "conversation_id": "c1", "sender_id": "x", "recipient_id": "kid", "path": "../../etc/passwd"},
        {"type": "media", "event_id": "m4", "conversation_id": "c1", "sender_id": "x", "recipient_id": "kid", "pdq": _flip(BANKED, 64)},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    decisions = tmp_path / "decisions.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "trygg.cli", "scan", str(path), "--out", str(tmp_path / "o.jsonl"), "--decisions", str(decisions), "--db", db],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    by_id = {d["event_id"]: d for d in map(json.loads, decisions.read_text().splitlines())}
    assert {"block", "report"} <= set(by_id["m1"]["actions"])
    (match,) = [r for r in by_id["m1"]["reasons"] if r["signal"] == "hash_match"]
    assert "bank=local" in match["value"] and "distance=5" in match["value"]
    for broken in ("m2", "m3"):
        assert by_id[broken]["actions"] == ["allow"]
        assert by_id[broken]["reasons"][0]["signal"] == "media_error"
    assert "leaves the media base directory" in by_id["m3"]["reasons"][0]["value"]
    assert by_id["m4"]["actions"] == ["allow"]  # 64 bits away: no match
