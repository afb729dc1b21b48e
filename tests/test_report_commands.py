"""`trygg report ncmec` and `trygg report dsa --db`: reports read from a store a real scan filled."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

pytest.importorskip("lxml", reason="NCMEC reports need the 'reports' extra (lxml)")

from trygg.cases.permissions import ADMIN, Reviewer  # noqa: E402
from trygg.cases.service import CaseService  # noqa: E402
from trygg.cases.vault import EvidenceItem, Keyring  # noqa: E402
from trygg.cli import app  # noqa: E402
from trygg.compose import Settings, build_pipeline  # noqa: E402
from trygg.events import read_lines  # noqa: E402
from trygg.reports.from_store import category_of, moderation_records  # noqa: E402
from trygg.reports.ncmec import validation_errors  # noqa: E402
from trygg.scan import scan  # noqa: E402
from trygg.store.repository import Store  # noqa: E402
from trygg.store.tables import DecisionRow  # noqa: E402

_LINES = [
    "hey cutie how old are you",
    "you are so mature for your age, dont tell your parents about me",
    "add me on snapchat, delete these messages ok",
    "send me a pic of you, just for me, our secret",
    "i can pick you up after school, come alone",
]
_SENT = "2026-03-0{day}T10:0{n}:00Z"
_ADMIN = Reviewer("test-admin", frozenset({ADMIN}))
_REPORTER = ["--reporter-email", "safety@platform.example", "--reporter-name", "Example Chat", "--service", "chat"]


def _chats() -> list[str]:
    """Two adults each grooming one 13-year-old (two cases), with sending times."""
    events: list[dict[str, object]] = [{"type": "account", "user_id": u, "declared_age": a} for u, a in (("kid", 13), ("kid2", 13), ("man", 41), ("man2", 38))]
    for day, (adult, kid) in enumerate((("man", "kid"), ("man2", "kid2")), start=1):
        for n, line in enumerate(_LINES):
            events.append(
                {
                    "type": "message",
                    "event_id": f"{kid}-{n}",
                    "conversation_id": f"c-{kid}",
                    "sender_id": adult,
                    "recipient_id": kid,
                    "text": line,
                    "sent_at": _SENT.format(day=day, n=n),
                }
            )
    return [json.dumps(e) for e in events]


@pytest.fixture
def scanned(database_url: str) -> tuple[str, dict[str, str]]:
    """The test's store after a real scan; the case id of each offender."""
    url = database_url
    store = Store(url)
    pipeline = build_pipeline(Settings(model=False), store=store)
    scan(read_lines(_chats()), pipeline.engine, store, sinks=pipeline.sinks)
    with store.engine.connect() as connection:
        cases = dict(connection.execute(text("SELECT offender_id, case_id FROM cases")).all())
    assert set(cases) == {"man", "man2"}
    return url, cases


def _invoke(args: list[str], env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    env = {"TRYGG_VAULT_KEY_FILE": None, "TRYGG_VAULT_KEYS": None, **(env or {})}  # None: unset
    return CliRunner().invoke(app, args, env=env)


def test_text_only_report_of_an_open_case_without_a_keyring(scanned, tmp_path: Path) -> None:
    url, cases = scanned
    out = tmp_path / "out"
    result = _invoke(["report", "ncmec", cases["man"], "--db", url, "--out", str(out), *_REPORTER])
    assert result.exit_code == 0, result.output
    assert "no vault keyring" in result.output
    document = (out / f"{cases['man']}.xml").read_bytes()
    assert validation_errors(document) == []
    assert b"<espIdentifier>man</espIdentifier>" in document
    assert b"<espIdentifier>kid</espIdentifier>" in document
    assert b"<platform>Example Chat</platform>" in document
    assert b"<incidentType>Online Enticement of Children for Sexual Acts</incidentType>" in document
    assert not (out / f"{cases['man']}-chat.csv").exists()


def test_escalated_case_with_evidence_gives_the_chat_log(scanned, tmp_path: Path) -> None:
    url, cases = scanned
    keyring = Keyring.generate("k1")
    key_file = tmp_path / "keys.json"
    key_file.write_text(keyring.to_json(), encoding="utf-8")
    evidence = [
        EvidenceItem(event_id=f"kid-{n}", conversation_id="c-kid", sender_id="man", recipient_id="kid", sent_at=_SENT.format(day=1, n=n), text=line)
        for n, line in enumerate(_LINES[:3])
    ]
    service = CaseService(Store(url).engine, keyring=keyring)
    assert service.escalate(_ADMIN, cases["man"], "grooming a 13-year-old", evidence=evidence) == 3
    out = tmp_path / "out"

    without_key = _invoke(["report", "ncmec", cases["man"], "--db", url, "--out", str(out), *_REPORTER])
    assert without_key.exit_code == 1
    assert "3 preserved items" in without_key.output and "TRYGG_VAULT_KEY_FILE" in without_key.output

    result = _invoke(["report", "ncmec", cases["man"], "--db", url, "--out", str(out), *_REPORTER], env={"TRYGG_VAULT_KEY_FILE": str(key_file)})
    assert result.exit_code == 0, result.output
    assert validation_errors((out / f"{cases['man']}.xml").read_bytes()) == []
    rows = list(csv.reader(io.StringIO((out / f"{cases['man']}-chat.csv").read_text(encoding="utf-8"))))
    assert [row[3] for row in rows[1:]] == _LINES[:3]
    assert [row[4] for row in rows[1:]] == ["kid-0", "kid-1", "kid-2"]
    assert "chat log of 3 messages" in result.output


def test_unknown_case_and_bad_options(scanned, tmp_path: Path) -> None:
    url, cases = scanned
    unknown = _invoke(["report", "ncmec", "k-nope", "--db", url, "--out", str(tmp_path / "o"), *_REPORTER])
    assert unknown.exit_code == 1
    assert "no case 'k-nope'" in unknown.output
    bad_email = _invoke(["report", "ncmec", cases["man"], "--db", url, "--out", str(tmp_path / "o"), "--reporter-email", "nobody"])
    assert bad_email.exit_code == 2
    assert "not an email address" in bad_email.output
    missing = _invoke(["report", "ncmec", cases["man"], "--db", url, "--out", str(tmp_path / "o")])
    assert missing.exit_code == 2
    assert not (tmp_path / "o").exists()


def _stored_restrictions(url: str) -> dict[str, list[str]]:
    with Store(url).engine.connect() as connection:  # through the table: JSON read back alike on every database
        return {row.event_id: row.actions for row in connection.execute(select(DecisionRow.event_id, DecisionRow.actions))}


def test_dsa_figures_from_the_store_count_the_stored_decisions_and_a_dismissal_reverses(scanned, tmp_path: Path) -> None:
    url, cases = scanned
    CaseService(Store(url).engine).dismiss(_ADMIN, cases["man2"], "a misunderstanding")
    stored = _stored_restrictions(url)
    restricting = {e: a for e, a in stored.items() if {"blur", "restrict_sender", "block"} & set(a)}
    assert restricting, "the scan should have restricted the sender"
    today = datetime.now(timezone.utc).date().isoformat()
    out = tmp_path / "dsa"
    result = _invoke(["report", "dsa", "--from", today, "--to", today, "--db", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "dsa-figures.json").read_text(encoding="utf-8"))
    assert f"{len(restricting)} actions in" in result.output
    own = figures["own_initiative"]
    assert own["actions"] == len(restricting)
    expected_types: dict[str, int] = {}
    for actions in restricting.values():
        strongest = "DECISION_ACCOUNT_SUSPENDED" if "block" in actions else (
            "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED" if "restrict_sender" in actions else "DECISION_VISIBILITY_CONTENT_LABELLED"
        )
        expected_types[strongest] = expected_types.get(strongest, 0) + 1
    assert own["by_type_of_restriction"] == expected_types
    assert own["by_subcategory"]["KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"]["actions"] == len(restricting)
    dismissed = [e for e in restricting if e.startswith("kid2-")]
    assert figures["complaints"]["decisions_reversed"] == len(dismissed) > 0
    assert figures["automated_means"]["overturned"] == len(dismissed)
    assert figures["automated_means"]["reviewed"] == len(dismissed)  # the other case is still open
    assert own["median_seconds_event_to_action"] > 0
    statements = [json.loads(line) for line in (out / "statements-of-reasons.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(statements) == len(restricting)

    records = {r.decision_id: r for r in moderation_records(Store(url).engine, datetime.now(timezone.utc).date(), datetime.now(timezone.utc).date())}
    assert set(records) == set(restricting)
    reversed_ids = {e for e, r in records.items() if r.reversed}
    assert reversed_ids and all(e.startswith("kid2-") for e in reversed_ids)
    assert all(r.reviewer_outcome is None for e, r in records.items() if e.startswith("kid-"))
    assert all(r.category == "grooming" and r.detection == "automated" and r.automated for r in records.values())
    assert all(r.event_time.date().isoformat().startswith("2026-03-0") for r in records.values())

    elsewhere = _invoke(["report", "dsa", "--from", "2020-01-01", "--to", "2020-01-31", "--db", url, "--out", str(tmp_path / "none")])
    assert elsewhere.exit_code == 0
    assert "0 actions in" in elsewhere.output


def test_escalation_confirms_the_automated_decisions(scanned) -> None:
    url, cases = scanned
    engine = Store(url).engine
    CaseService(engine, keyring=Keyring.generate()).escalate(_ADMIN, cases["man"], "confirmed grooming")
    today = datetime.now(timezone.utc).date()
    records = moderation_records(engine, today, today)
    mine = [r for r in records if r.decision_id.startswith("kid-")]
    assert mine and all(r.reviewer_outcome == "confirmed" and not r.reversed for r in mine)
    assert all(r.reviewer_outcome is None for r in records if r.decision_id.startswith("kid2-"))


@pytest.mark.parametrize(
    ("signals", "category"),
    [
        ({"hash_match", "adult_minor_asymmetry"}, "csam"),
        ({"ad_category_blocked"}, "age_restriction"),
        ({"adult_contacting_minor", "new_account", "policy_shadow"}, "age_restriction"),
        ({"secrecy", "adult_minor_asymmetry"}, "grooming"),
        ({"user_report"}, "grooming"),
    ],
)
def test_category_of_reason_signals(signals: set[str], category: str) -> None:
    assert category_of(signals) == category


def test_dsa_store_without_case_tables_and_two_sources(tmp_path: Path, database_url: str) -> None:
    """A store kept without cases still gives records, with no reviewer outcome; --records and
    --db together are refused."""
    url = database_url
    store = Store(url)
    pipeline = build_pipeline(Settings(model=False, cases=False), store=store)
    scan(read_lines(_chats()), pipeline.engine, store, sinks=pipeline.sinks)
    today = datetime.now(timezone.utc).date()
    records = moderation_records(store.engine, today, today)
    assert records and all(r.reviewer_outcome is None and not r.reversed for r in records)
    (tmp_path / "r.jsonl").write_text("", encoding="utf-8")
    both = _invoke(["report", "dsa", "--from", today.isoformat(), "--to", today.isoformat(), "--db", url, "--records", str(tmp_path / "r.jsonl"), "--out", str(tmp_path / "o")])
    assert both.exit_code == 2
    assert "give one" in both.output
