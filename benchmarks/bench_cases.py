"""Case layer figures: intake, queue, audit verification and vault throughput on one database.

    python benchmarks/bench_cases.py [DATABASE_URL]     (default: a temporary SQLite file)

Generated decisions only (never the shared data): 2,000 held decisions from 200 offenders over
500 conversations, recorded in batches of 500; then a queue read, a full audit-chain check and
1,000 vault items sealed and read. Give a PostgreSQL URL of a scratch database to measure that.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

import trygg.cases.tables  # noqa: F401  (registers the case tables)
from trygg.cases import CaseInput, CaseService, EvidenceItem, Keyring, Reviewer
from trygg.cases import audit, vault
from trygg.decision import Decision
from trygg.store.base import Base, make_engine


def main(url: str) -> dict[str, float]:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    service = CaseService(engine, Keyring.generate())
    reviewer = Reviewer("bench", frozenset({"admin"}))
    items = []
    for i in range(2000):
        reason = {"signal": "secrecy", "score": 0.8, "event_id": f"e{i}", "span": [0, 5]}
        decision = Decision(f"e{i}", ("hold_for_review",), 0.8, (reason,), "bench@1", f"c{i % 500}")
        items.append(CaseInput(decision, f"o{i % 200}", (f"kid{i % 500}",), "grooming", True))
    figures: dict[str, float] = {}
    start = time.perf_counter()
    for first in range(0, len(items), 500):
        service.record_many(items[first : first + 500])
    figures["intake_decisions_per_s"] = round(len(items) / (time.perf_counter() - start))
    start = time.perf_counter()
    service.queue(reviewer, limit=50)
    figures["queue_50_ms"] = round((time.perf_counter() - start) * 1000, 1)
    with Session(engine) as session:
        start = time.perf_counter()
        report = audit.verify_chain(session)
        figures["audit_verify_entries_per_s"] = round(report.entries / (time.perf_counter() - start))
    evidence = [EvidenceItem(f"m{i}", text="x" * 200) for i in range(1000)]
    with Session(engine) as session, session.begin():
        start = time.perf_counter()
        vault.preserve(session, service.keyring, "bench", "k-bench", evidence)
        figures["vault_seal_items_per_s"] = round(len(evidence) / (time.perf_counter() - start))
    with Session(engine) as session, session.begin():
        start = time.perf_counter()
        vault.read_evidence(session, service.keyring, reviewer, "k-bench")
        figures["vault_read_items_per_s"] = round(len(evidence) / (time.perf_counter() - start))
    engine.dispose()
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(main(sys.argv[1])))
    else:
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(main(f"sqlite:///{Path(folder) / 'bench.db'}")))
