"""The trygg command, run as a real process: output formats, bad lines, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from trygg.demo import demo_events_path
from trygg.store.repository import Store


def trygg(*args: str, cwd: Path, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "trygg.cli", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def test_scan_writes_conversation_and_decision_lines(tmp_path: Path, database_url: str) -> None:
    out, decisions = tmp_path / "alerts.jsonl", tmp_path / "decisions.jsonl"
    result = trygg("scan", str(demo_events_path()), "--out", str(out), "--decisions", str(decisions), "--db", database_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    conversations = [json.loads(line) for line in out.read_text().splitlines()]
    assert {c["conversation_id"] for c in conversations} >= {"demo-grooming-en", "demo-coach-sv"}
    for c in conversations:
        assert set(c) == {"conversation_id", "flagged", "label_guess", "risk", "offender_id", "first_alert_event_id", "reasons"}
    by_id = {c["conversation_id"]: c for c in conversations}
    assert by_id["demo-grooming-en"]["flagged"] and by_id["demo-grooming-en"]["offender_id"] == "demo-alex"
    assert not by_id["demo-coach-sv"]["flagged"]
    lines = [json.loads(line) for line in decisions.read_text().splitlines()]
    assert all({"event_id", "conversation_id", "actions", "risk", "reasons"} <= set(d) for d in lines)
    assert all(d["reasons"] for d in lines if d["actions"] != ["allow"])
    assert "line 32" in result.stderr and "text" in result.stderr  # the malformed demo line is reported


def test_scan_rerun_is_idempotent(tmp_path: Path, database_url: str) -> None:
    args = ("scan", str(demo_events_path()), "--out", str(tmp_path / "a.jsonl"), "--db", database_url)
    assert trygg(*args, cwd=tmp_path).returncode == 0
    second = trygg(*args, cwd=tmp_path)
    assert second.returncode == 0
    assert "processed 0" in second.stderr


def test_database_url_from_environment(tmp_path: Path, database_url: str) -> None:
    result = trygg("scan", str(demo_events_path()), "--out", str(tmp_path / "a.jsonl"), cwd=tmp_path, env_extra={"TRYGG_DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    assert Store(database_url).counts()["events"] > 0 and not (tmp_path / "trygg.db").exists()


def test_unusable_arguments_exit_2(tmp_path: Path) -> None:
    assert trygg("scan", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o"), cwd=tmp_path).returncode == 2
    assert trygg("scan", str(demo_events_path()), cwd=tmp_path).returncode == 2  # --out missing
    assert trygg("eval", "--dataset", "nonsense", cwd=tmp_path).returncode == 2


def test_strict_stops_with_exit_1(tmp_path: Path, database_url: str) -> None:
    result = trygg("scan", str(demo_events_path()), "--out", str(tmp_path / "o"), "--strict", "--db", database_url, cwd=tmp_path)
    assert result.returncode == 1 and "line 32" in result.stderr


def test_demo_runs_and_explains(tmp_path: Path, database_url: str) -> None:
    result = trygg("demo", "--db", database_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "demo-grooming-en" in result.stdout and "platform_migration" in result.stdout


def test_eval_on_files_prints_json(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        json.dumps({"conversation_id": "demo-grooming-en", "label": "grooming", "offender_id": "demo-alex", "first_harmful_event_id": "demo-grooming-en-7", "language": "en", "hard_negative": False}) + "\n"
        + json.dumps({"conversation_id": "demo-coach-sv", "label": "benign", "offender_id": None, "first_harmful_event_id": None, "language": "sv", "hard_negative": True}) + "\n"
    )
    result = trygg("eval", str(demo_events_path()), str(labels), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["overall"]["tp"] == 1 and report["overall"]["fp"] == 0
    assert report["offender_identification"]["accuracy"] == 1.0
