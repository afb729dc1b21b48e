"""``trygg rescan --events``: the event archive replayed under a changed policy or model records
exactly the decisions that changed (what a fresh scan under the new policy decides differently),
sends the escalated ones to cases and webhooks once, and a second rescan records nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from trygg.cli import app
from trygg.cluster import event_rescan
from trygg.compose import Settings
from trygg.lab.bench import generate_stream
from trygg.store.repository import Store

POLICY = Path(__file__).resolve().parents[1] / "src" / "trygg" / "policy" / "default.toml"


def _archive(folder: Path) -> tuple[Path, Path]:
    """The archive, and the part of it the store has seen (the rest arrived after the scan)."""
    archive = folder / "archive.jsonl"
    generate_stream(archive, messages=3_000, conversations=120, seed=17)
    lines = archive.read_text(encoding="utf-8").splitlines(keepends=True)
    with archive.open("a", encoding="utf-8") as handle:
        handle.write("not json at all\n")
        handle.write(json.dumps({"type": "message", "event_id": "m5", "conversation_id": "c0", "sender_id": "x", "text": "again"}) + "\n")
        handle.write(json.dumps({"type": "message", "event_id": "late1", "conversation_id": "c1", "sender_id": "u1a", "text": "hi"}) + "\n")
    scanned = folder / "scanned.jsonl"
    scanned.write_text("".join(lines), encoding="utf-8")
    return archive, scanned


def _policy(folder: Path) -> Path:
    """A changed policy: earlier holds for review (escalations), later warnings (lowered decisions)."""
    source = POLICY.read_text(encoding="utf-8")
    assert source.count("min_risk = 0.6\n") == 1 and source.count("min_risk = 0.75\n") == 1
    changed = source.replace('name = "default"', 'name = "changed"').replace("min_risk = 0.6\n", "min_risk = 0.7\n")
    changed = changed.replace("min_risk = 0.75\n", "min_risk = 0.5\n")
    path = folder / "changed.toml"
    path.write_text(changed, encoding="utf-8")
    return path


def _scan(events: Path, folder: Path, name: str, db: str, *extra: str) -> tuple[str, dict[str, list[str]]]:
    """Scan into the fresh database ``db``; its url and every decision's actions by event id."""
    decisions = folder / f"{name}.decisions.jsonl"
    result = CliRunner().invoke(app, ["scan", str(events), "--out", str(folder / f"{name}.out"), "--decisions", str(decisions), "--db", db, *extra])
    assert result.exit_code == 0, result.output
    actions = {}
    for line in decisions.read_text(encoding="utf-8").splitlines():
        decision = json.loads(line)
        actions[decision["event_id"]] = decision["actions"]
    return db, actions


def _rescan(archive: Path, db: str, *extra: str, env: dict[str, str] | None = None) -> dict:
    result = CliRunner().invoke(app, ["rescan", "--events", str(archive), "--db", db, *extra], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def _rows(db: str, sql: str) -> list[tuple]:
    store = Store(db)
    with store.engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(sql))]
    store.engine.dispose()
    return rows


def _json(value: object) -> object:
    """A JSON column as read back: text on SQLite, already parsed on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def _changed(old: dict[str, list[str]], new: dict[str, list[str]]) -> dict[str, tuple[list[str], list[str]]]:
    return {eid: (old[eid], new.get(eid, ["allow"])) for eid in old if sorted(old[eid]) != sorted(new.get(eid, ["allow"]))}


def test_a_changed_policy_records_exactly_the_changed_decisions(tmp_path: Path, new_database_url: Callable[[], str]) -> None:
    archive, scanned = _archive(tmp_path)
    policy = _policy(tmp_path)
    db, before = _scan(scanned, tmp_path, "live", new_database_url(), "--no-model")
    _, after = _scan(scanned, tmp_path, "fresh", new_database_url(), "--no-model", "--policy", str(policy))
    expected = _changed(before, after)
    escalated = {eid for eid, (old, new) in expected.items() if event_rescan.escalates(old, new)}
    assert escalated and len(expected) > len(escalated)  # escalations and lowered decisions both
    env = {"TRYGG_WEBHOOK_URL": "http://127.0.0.1:9/hooks"}  # queued in the outbox, never delivered here
    outbox_before = _rows(db, "SELECT dedupe_key FROM outbox")
    cases_before = _rows(db, "SELECT ref FROM case_links WHERE kind = 'event'")

    summary = _rescan(archive, db, "--no-model", "--policy", str(policy), env=env)
    assert summary["changed"] == len(expected) and summary["escalated"] == len(escalated)
    assert summary["compared"] == 3_000 and summary["not_stored"] == 1 and summary["rejected"] == 1
    assert summary["mismatched"] == 1  # m5 again, in another conversation: not the stored event m5
    results = _rows(db, "SELECT run_id, event_id, old_actions, new_actions, new_policy, escalated FROM rescan_results")
    assert {row[0] for row in results} == {summary["run_id"]}
    assert {row[1]: (_json(row[2]), _json(row[3])) for row in results} == expected
    assert {row[1] for row in results if row[5]} == escalated
    assert {row[4] for row in results} == {"changed@2+rescan"}
    # The stored decisions are now the new policy's, as a fresh scan under it stores them.
    stored = dict(_rows(db, "SELECT event_id, actions FROM decisions"))
    assert {eid: _json(stored[eid]) if eid in stored else ["allow"] for eid in expected} == {eid: new for eid, (_, new) in expected.items()}
    # Escalations went to the outputs once: one webhook each, filed in cases; nothing else did.
    fresh_hooks = sorted(set(_rows(db, "SELECT dedupe_key FROM outbox")) - set(outbox_before))
    assert [key for (key,) in fresh_hooks] == sorted(f"decision:{eid}:rescan:{'+'.join(after[eid])}" for eid in escalated)
    filed = {ref for (ref,) in _rows(db, "SELECT ref FROM case_links WHERE kind = 'event'")} - {ref for (ref,) in cases_before}
    assert filed and filed <= escalated

    again = _rescan(archive, db, "--no-model", "--policy", str(policy), env=env)
    assert again["changed"] == 0 and again["compared"] == 3_000
    assert len(_rows(db, "SELECT * FROM rescan_results")) == len(expected)
    assert sorted(_rows(db, "SELECT dedupe_key FROM outbox")) == sorted(outbox_before + fresh_hooks)
    runs = _rows(db, "SELECT run_id, policy, compared, changed, finished_at IS NOT NULL FROM rescan_runs ORDER BY started_at")
    assert [(run[1], run[2], run[3], run[4]) for run in runs] == [("changed@2", 3_000, len(expected), 1), ("changed@2", 3_000, 0, 1)]


def test_a_changed_model_records_changed_actions_not_moved_risks(tmp_path: Path, new_database_url: Callable[[], str]) -> None:
    """The scan fused the learned model; the rescan decides by the rules alone. Risks move on
    most messages; only a change of actions is a changed decision."""
    archive, scanned = _archive(tmp_path)
    db, before = _scan(scanned, tmp_path, "live", new_database_url())
    _, after = _scan(scanned, tmp_path, "fresh", new_database_url(), "--no-model")
    risks = [{json.loads(line)["event_id"]: json.loads(line)["risk"] for line in (tmp_path / f"{name}.decisions.jsonl").open()} for name in ("live", "fresh")]
    assert sum(risks[0][eid] != risks[1][eid] for eid in risks[0]) > 1_000
    expected = _changed(before, after)
    summary = _rescan(archive, db, "--no-model")
    assert summary["changed"] == len(expected) and summary["compared"] == 3_000
    results = _rows(db, "SELECT event_id, old_actions, new_actions FROM rescan_results")
    assert {row[0]: (_json(row[1]), _json(row[2])) for row in results} == expected
    assert _rescan(archive, db, "--no-model")["changed"] == 0


def test_a_rescan_killed_between_its_outputs_and_its_record_is_recorded_once(tmp_path: Path, new_database_url: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> None:
    archive, scanned = _archive(tmp_path)
    policy = _policy(tmp_path)
    db, _ = _scan(scanned, tmp_path, "live", new_database_url(), "--no-model")
    settings = Settings(model=False, policy=policy, webhook_url="http://127.0.0.1:9/hooks")
    record = event_rescan._record

    def crash(*_args: object) -> None:
        raise RuntimeError("killed after the outputs, before the record")

    monkeypatch.setattr(event_rescan, "_record", crash)
    with pytest.raises(RuntimeError):
        event_rescan.rescan_events(archive, settings, Store(db))
    hooks = _rows(db, "SELECT dedupe_key FROM outbox")
    assert hooks and _rows(db, "SELECT * FROM rescan_results") == []

    monkeypatch.setattr(event_rescan, "_record", record)
    report = event_rescan.rescan_events(archive, settings, Store(db))
    assert report.escalated >= len(hooks) and report.changed > 0
    assert sorted(_rows(db, "SELECT dedupe_key FROM outbox")) == sorted(hooks)  # nothing queued twice
    assert len(_rows(db, "SELECT * FROM rescan_results")) == report.changed
    assert event_rescan.rescan_events(archive, settings, Store(db)).changed == 0


def test_rescan_arguments_are_checked(tmp_path: Path, database_url: str) -> None:
    runner = CliRunner()
    archive = tmp_path / "a.jsonl"
    archive.write_text("", encoding="utf-8")
    assert runner.invoke(app, ["rescan", "--events", str(archive), "--media"]).exit_code == 2
    assert runner.invoke(app, ["rescan", "--media"]).exit_code == 2
    assert runner.invoke(app, ["rescan", "--events", str(tmp_path / "missing.jsonl")]).exit_code == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("mode = 3\n", encoding="utf-8")
    assert runner.invoke(app, ["rescan", "--events", str(archive), "--policy", str(bad), "--db", database_url]).exit_code == 2


def test_an_escalation_adds_an_action_that_outranks_what_it_takes_away() -> None:
    escalates = event_rescan.escalates
    assert escalates(["allow"], ["nudge_recipient"])
    assert escalates(["nudge_recipient"], ["nudge_recipient", "hold_for_review"])
    assert escalates(["hold_for_review"], ["restrict_sender", "hold_for_review"])
    assert escalates(["block"], ["report"])
    assert not escalates(["warn_recipient", "hold_for_review"], ["nudge_recipient", "hold_for_review"])
    assert not escalates(["warn_recipient"], ["allow"])
    assert not escalates(["block", "report"], ["report"])


def test_archive_chunks_cover_every_line_once(tmp_path: Path) -> None:
    archive = tmp_path / "a.jsonl"
    lines = [json.dumps({"type": "message", "event_id": f"m{i}", "conversation_id": f"c{i % 7}", "sender_id": "s", "text": "x" * (i % 13)}) for i in range(500)]
    lines.insert(10, json.dumps({"type": "account", "user_id": "u", "declared_age": 13}))
    archive.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    chunks = event_rescan.archive_chunks(archive, chunk_bytes=700)
    assert len(chunks) > 10 and chunks[0]["start"] == 0 and chunks[-1]["end"] == archive.stat().st_size
    assert all(a["end"] == b["start"] for a, b in zip(chunks, chunks[1:]))
    rows = [row for chunk in chunks for row in event_rescan._keyed_lines(chunk, 3)]
    data = archive.read_bytes()
    firsts = sorted((row["position"], row["raw"]) for row in rows if row["copy"] == 0)
    assert [raw for _, raw in firsts] == [line.encode() for line in lines]
    assert all(data[position : position + len(raw)] == raw for position, raw in firsts)
    assert sorted(row["partition"] for row in rows if row["raw"].startswith(b'{"type": "account"')) == [0, 1, 2]
