"""Concurrent writers on PostgreSQL: the audit chain does not fork, and an offender's first
decisions arriving at once open one case. (SQLite has one writer at a time by design.)"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm import Session

import trygg.cases.tables  # noqa: F401  (registers the case tables)
from trygg.cases import audit
from trygg.cases.cases import CaseInput, count_cases
from trygg.cases.permissions import Reviewer
from trygg.cases.service import CaseService
from trygg.decision import Decision
from trygg.store.base import Base, make_engine

pytestmark = pytest.mark.postgres_only(reason="concurrent writers: SQLite has one writer at a time by design")


def _run_together(workers: int, target) -> list[BaseException]:  # type: ignore[no-untyped-def]
    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            target(n)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_appends_keep_one_chain(database_url) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)

    def append_many(n: int) -> None:
        for i in range(10):
            with Session(engine) as session, session.begin():
                audit.append(session, f"worker{n}", "case.update", f"case:k-{n}", {"i": i})

    assert _run_together(6, append_many) == []
    with Session(engine) as session:
        report = audit.verify_chain(session)
        assert report.ok and report.entries == 60
    engine.dispose()


def test_concurrent_first_decisions_open_one_case(database_url) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    service = CaseService(engine)

    def record(n: int) -> None:
        reason = {"signal": "secrecy", "score": 0.8, "event_id": f"e{n}", "span": [0, 5]}
        decision = Decision(f"e{n}", ("hold_for_review",), 0.8, (reason,), "default@1", f"c{n}")
        service.record(CaseInput(decision, "offender", (f"kid{n}",)))

    assert _run_together(6, record) == []
    with Session(engine) as session:
        assert count_cases(session) == 1
        (case,) = service.list(Reviewer("r", frozenset({"admin"})))
        assert len(case.victims) == 6 and case.decisions == 6
        assert audit.verify_chain(session).ok
    engine.dispose()
