"""``trygg policy check`` / ``policy diff`` and ``trygg age show``, run as real processes."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from importlib import resources
from pathlib import Path

from policy_cases import _fan_out, account, contact
from test_cli import trygg
from trygg.engine import Engine
from trygg.events import parse_event
from trygg.policy import Policy
from trygg.policy.reload import PolicyFile
from trygg.shadow import ShadowEngine

DEFAULT = resources.files("trygg.policy").joinpath("default.toml").read_text(encoding="utf-8")


def candidate(tmp_path: Path, old: str, new: str, name: str = "cand.toml") -> Path:
    assert old in DEFAULT
    path = tmp_path / name
    path.write_text(DEFAULT.replace(old, new).replace('name = "default"', 'name = "candidate"'))
    return path


def test_check_accepts_the_default_and_names_the_line_of_an_error(tmp_path):
    ok = trygg("policy", "check", str(resources.files("trygg.policy").joinpath("default.toml")), cwd=tmp_path)
    assert ok.returncode == 0 and "ok: default@" in ok.stdout
    bad = candidate(tmp_path, "fan_out_minors = 10", "fan_out_minors = 0")
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if text.startswith("fan_out_minors"))
    result = trygg("policy", "check", str(bad), cwd=tmp_path)
    assert result.returncode == 1
    assert f"cand.toml:{line}: contact.fan_out_minors: must be an integer >= 1" in result.stderr


def test_diff_lists_the_events_decided_differently(tmp_path):
    cand = candidate(tmp_path, "fan_out_minors = 10", "fan_out_minors = 3")
    events = tmp_path / "e.jsonl"
    events.write_text("\n".join(json.dumps(o) for o in _fan_out(6)) + "\n")
    result = trygg("policy", "diff", "default", str(cand), "--events", str(events), "--no-model", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    # the 3rd request trips the candidate's fan-out; the 4th and 5th are then denied by it
    assert [r["event_id"] for r in rows] == ["fan2", "fan3", "fan4"]
    assert rows[0]["enforced"] == ["nudge_recipient"] and "restrict_sender" in rows[0]["candidate"]
    assert rows[1]["candidate"] == ["block"] and rows[0]["candidate_policy"].startswith("candidate@")
    assert "3 of " in result.stderr


def test_age_show_prints_the_stored_picture(tmp_path, database_url: str):
    events = tmp_path / "e.jsonl"
    lines = [account("t", 16), account("kid", 13), {"type": "message", "event_id": "m1", "conversation_id": "c", "sender_id": "t", "recipient_id": "kid", "text": "i'm 34 btw"}]
    events.write_text("\n".join(json.dumps(o) for o in lines) + "\n")
    db = database_url
    assert trygg("scan", str(events), "--out", str(tmp_path / "o.jsonl"), "--db", db, "--no-model", cwd=tmp_path).returncode == 0
    result = trygg("age", "show", "t", "--db", db, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["declared_age"] == 16 and shown["stated_ages"][0][0] == 34
    assert "suspected_adult_posing_as_teen" in shown["flags"]
    assert shown["protective_reading"]["minor"] is True
    assert shown["contact"]["restricted"]["rule"] == "age.actions.suspected_adult_posing_as_teen"
    missing = trygg("age", "show", "nobody", "--db", db, cwd=tmp_path)
    assert missing.returncode == 1 and "no user" in missing.stderr


def test_shadow_engine_returns_the_enforced_decisions_and_logs_the_candidates(caplog):
    base = Policy.default()
    strict = replace(base, name="strict", protection=replace(base.protection, contact=replace(base.protection.contact, adult_to_unconnected_minor="deny")))
    shadow = ShadowEngine(Engine(), strict)
    for obj in (account("man", 35), account("kid", 13)):
        shadow.process(parse_event(obj))
    with caplog.at_level(logging.INFO, logger="trygg.shadow"):
        decision = shadow.process(parse_event(contact("r1", "man", "kid")))
    assert decision.actions == ("nudge_recipient",) and decision.policy == base.id
    assert shadow.differences[-1]["candidate"] == ["block"] and shadow.differences[-1]["event_id"] == "r1"
    assert "r1" in caplog.text
    assert shadow.ages is shadow.enforced.ages  # everything else is the enforced engine's


def test_policy_file_reloads_a_valid_change_and_keeps_the_last_good_one(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(DEFAULT)
    watched = PolicyFile(path)
    engine = Engine(policy=watched.policy)
    assert watched.poll() is None
    path.write_text(DEFAULT.replace("version = 2", "version = 3").replace("fan_out_minors = 10", "fan_out_minors = 4"))
    assert watched.apply(engine) and engine.policy.version == 3 and engine.policy.protection.contact.fan_out_minors == 4
    path.write_text(DEFAULT.replace("version = 2", "version = 4").replace("fan_out_minors = 10", "fan_out_minors = -1 "))
    assert not watched.apply(engine)
    assert engine.policy.version == 3 and "contact.fan_out_minors" in watched.error


def test_scan_with_a_shadow_policy_enforces_only_the_enforced_one(tmp_path, database_url: str):
    cand = candidate(tmp_path, 'adult_to_unconnected_minor = "message_request"', 'adult_to_unconnected_minor = "deny"')
    events = tmp_path / "e.jsonl"
    events.write_text("\n".join(json.dumps(o) for o in (account("man", 35), account("kid", 13), contact("r1", "man", "kid"))) + "\n")
    decisions = tmp_path / "d.jsonl"
    args = ("scan", str(events), "--out", str(tmp_path / "o.jsonl"), "--decisions", str(decisions), "--db", database_url, "--no-model")
    result = trygg(*args, "--shadow", str(cand), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    by_id = {d["event_id"]: d for d in map(json.loads, decisions.read_text().splitlines())}
    assert by_id["r1"]["actions"] == ["nudge_recipient"]
    assert "shadow candidate@2: 1 of 3 events decided differently" in " ".join(result.stderr.split())
    bad = trygg(*args, "--shadow", str(tmp_path / "missing.toml"), cwd=tmp_path)
    assert bad.returncode == 2 and "shadow policy" in bad.stderr


def test_sighup_reloads_the_policy_file(tmp_path):
    import os
    import signal

    from trygg.policy.reload import reload_on_sighup

    path = tmp_path / "p.toml"
    path.write_text(DEFAULT)
    engine = Engine(policy=Policy.load(path))
    previous = signal.getsignal(signal.SIGHUP)
    try:
        watched = reload_on_sighup(path, engine)
        path.write_text(DEFAULT.replace("version = 2", "version = 5"))
        os.kill(os.getpid(), signal.SIGHUP)
        assert engine.policy.version == 5 and watched.error is None
    finally:
        signal.signal(signal.SIGHUP, previous)
