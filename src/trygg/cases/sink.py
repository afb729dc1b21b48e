"""Cases as an output: the sink from decisions to review cases and decision webhooks.

Every runner (``trygg scan``, ``trygg serve``, a cluster worker) writes its outputs through
sinks (:mod:`trygg.sinks`), so cases open the same way everywhere. After a batch is decided and
stored, this sink asks the case library which decisions need a person
(:func:`trygg.cases.intake.case_input` and the case policy), opens or updates those cases, and,
when decision webhooks are on, queues one ``decision`` delivery per acting decision in the
persisted outbox. Cases and outbox rows are written in one transaction, so a webhook is never
queued for a case change that rolled back.

The parties of a case come from the engine's state, read after the batch has been decided: the
latest the engine knows of who the offender is and who is a minor.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session

from trygg.cases import cases, outbox
from trygg.cases.cases import CasePolicy
from trygg.cases.intake import case_input
from trygg.decision import Decision
from trygg.sinks import Batch

#: Outbox kind of a decision webhook.
KIND_DECISION = "decision"


class CaseSink:
    """Opens and updates cases from decisions; queues decision webhooks when asked to.

    ``linked`` collects ``{event_id: case_id}`` of the decisions filed in a case (the API
    answers each decision with its case)."""

    def __init__(self, database: SqlEngine, engine: Any, policy: CasePolicy | None = None, decision_webhooks: bool = False) -> None:
        self.database = database
        self.engine = engine
        self.policy = policy or CasePolicy()
        self.decision_webhooks = decision_webhooks
        self.linked: dict[str, str] = {}

    def write(self, batch: Batch) -> None:
        wanted = [
            (event, decision)
            for event, decision in batch.decided
            if decision.actions != ("allow",) and (self.decision_webhooks or self.policy.triggers(decision))
        ]
        if not wanted:
            return  # most batches: nothing to file, nothing to announce
        with Session(self.database) as session, session.begin():
            for event, decision in wanted:
                event_id = decision.event_id
                item = batch.parties[event_id] if event_id in batch.parties else case_input(self.engine, event, decision)
                case_id = cases.record_decision(session, item, self.policy) if item is not None else None
                if case_id:
                    self.linked[decision.event_id] = case_id
                if self.decision_webhooks:
                    payload = {"type": KIND_DECISION, **decision.as_dict()}
                    if case_id:
                        payload["case_id"] = case_id
                    outbox.enqueue(session, KIND_DECISION, payload, dedupe_key=_webhook_key(decision, batch.redecided))

    def close(self) -> None:
        return None


def _webhook_key(decision: Decision, redecided: bool) -> str:
    """One webhook per decided event; a decision a rescan changed is one more, once per
    change (its actions name it), however often the rescan is rerun."""
    key = f"decision:{decision.event_id}"
    return f"{key}:rescan:{'+'.join(decision.actions)}" if redecided else key
