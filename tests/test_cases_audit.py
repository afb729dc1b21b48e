"""The audit chain: appends link, and tampering with the table directly is found and named."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cases_fixtures import db_engine  # noqa: F401  (fixture)
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from trygg.cases import audit
from trygg.cases.tables import AuditEntryRow

T0 = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def _fill(engine, n: int = 5) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session, session.begin():
        for i in range(1, n + 1):
            audit.append(session, f"anna{i}", "case.dismiss", f"case:k-{i}", {"note": f"nothing here {i} — ok", "n": i, "r": 0.1 * i}, T0 + timedelta(seconds=i))


def _verify(engine, anchor=None) -> audit.ChainReport:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return audit.verify_chain(session, anchor=anchor)


def test_appended_entries_link_and_verify(db_engine) -> None:  # noqa: F811
    _fill(db_engine)
    with Session(db_engine) as session:
        entries = audit.entries(session)
        assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
        assert entries[0].prev_hash == audit.GENESIS_HASH
        assert all(later.prev_hash == earlier.entry_hash for earlier, later in zip(entries, entries[1:]))
        assert audit.head(session) == (5, entries[-1].entry_hash)
        assert [e.subject for e in audit.entries(session, subject="case:k-2")] == ["case:k-2"]
    report = _verify(db_engine)
    assert report.ok and report.entries == 5 and report.first_bad_seq is None


def test_changed_field_names_that_entry(db_engine) -> None:  # noqa: F811
    _fill(db_engine)
    with db_engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"))
    report = _verify(db_engine)
    assert not report.ok and report.first_bad_seq == 3 and "altered" in report.problem


def test_changed_time_or_detail_is_found(db_engine) -> None:  # noqa: F811
    _fill(db_engine)
    with db_engine.begin() as connection:
        connection.execute(AuditEntryRow.__table__.update().where(AuditEntryRow.seq == 4).values(detail={"note": "rewritten", "n": 4, "r": 0.4}))
    assert _verify(db_engine).first_bad_seq == 4
    with db_engine.begin() as connection:
        connection.execute(AuditEntryRow.__table__.update().where(AuditEntryRow.seq == 2).values(at=T0 + timedelta(days=1)))
    assert _verify(db_engine).first_bad_seq == 2


def test_deleted_row_names_the_missing_entry(db_engine) -> None:  # noqa: F811
    _fill(db_engine)
    with db_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    report = _verify(db_engine)
    assert not report.ok and report.first_bad_seq == 2 and "removed" in report.problem


def test_deleted_last_rows_show_against_the_head(db_engine) -> None:  # noqa: F811
    _fill(db_engine)
    with db_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq >= 4"))
    report = _verify(db_engine)
    assert not report.ok and report.first_bad_seq == 4 and "removed" in report.problem


def test_inserted_row_is_found(db_engine) -> None:  # noqa: F811
    _fill(db_engine)
    with Session(db_engine) as session:
        last = audit.entries(session)[-1]
    table = AuditEntryRow.__table__
    forged_at = T0 + timedelta(hours=1)
    detail = {"note": "forged"}
    # A forger who knows the algorithm computes a valid hash; the head row still disagrees.
    forged_hash = audit.entry_hash(last.entry_hash, audit.canonical(6, forged_at, "mallory", "case.dismiss", "case:k-9", detail))
    with db_engine.begin() as connection:
        connection.execute(
            table.insert().values(
                seq=6, at=forged_at, actor="mallory", action="case.dismiss", subject="case:k-9", detail=detail, prev_hash=last.entry_hash, entry_hash=forged_hash
            )
        )
    report = _verify(db_engine)
    assert not report.ok and report.first_bad_seq == 6


def test_replaced_middle_row_breaks_the_link_after_it(db_engine) -> None:  # noqa: F811
    _fill(db_engine)
    with Session(db_engine) as session:
        second = audit.entries(session)[1]
    table = AuditEntryRow.__table__
    detail = {"note": "replacement"}
    forged = audit.entry_hash(second.entry_hash, audit.canonical(3, T0, "mallory", "case.escalate", "case:k-3", detail))
    with db_engine.begin() as connection:
        connection.execute(table.delete().where(table.c.seq == 3))
        connection.execute(
            table.insert().values(
                seq=3, at=T0, actor="mallory", action="case.escalate", subject="case:k-3", detail=detail, prev_hash=second.entry_hash, entry_hash=forged
            )
        )
    report = _verify(db_engine)
    assert not report.ok and report.first_bad_seq == 4 and "link" in report.problem


def test_rebuilt_chain_is_caught_by_an_anchor(db_engine) -> None:  # noqa: F811
    _fill(db_engine)
    with Session(db_engine) as session:
        anchor = audit.head(session)
    # Rebuild: wipe and re-append different history with this very code.
    with db_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log"))
        connection.execute(text("DELETE FROM audit_head"))
    with Session(db_engine) as session, session.begin():
        for i in range(1, 6):
            audit.append(session, "mallory", "case.dismiss", f"case:k-{i}", {"note": "all fine"}, T0)
    assert _verify(db_engine).ok
    report = _verify(db_engine, anchor=anchor)
    assert not report.ok and report.first_bad_seq == 5 and "anchor" in report.problem


def test_detail_must_be_json(db_engine) -> None:  # noqa: F811
    with Session(db_engine) as session, session.begin():
        with pytest.raises(TypeError):
            audit.append(session, "anna", "x", "case:k-1", {"when": object()})


def test_cli_verify_exit_codes(db_engine) -> None:  # noqa: F811
    from trygg.cli import app

    url = db_engine.url.render_as_string(hide_password=False)
    _fill(db_engine)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--db", url])
    assert ok.exit_code == 0, ok.output
    assert "intact: 5 entries" in ok.output
    head = runner.invoke(app, ["audit", "head", "--db", url]).output.strip()
    assert head.startswith("5:") and len(head) == 66
    assert runner.invoke(app, ["audit", "verify", "--db", url, "--anchor", head]).exit_code == 0
    assert runner.invoke(app, ["audit", "verify", "--db", url, "--anchor", "nonsense"]).exit_code == 2
    with db_engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET subject = 'case:k-other' WHERE seq = 2"))
    broken = runner.invoke(app, ["audit", "verify", "--db", url])
    assert broken.exit_code == 1
    assert "broken at entry 2" in broken.output
