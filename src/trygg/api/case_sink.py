"""The output path from decisions to cases and decision webhooks: one small, clear hook.

Where the API (or a scan) has written a batch of decisions, it hands the ``(event, decision)``
pairs to :meth:`CaseSink.write`. The sink asks the case library which decisions need a person
(:func:`trygg.cases.intake.case_input` and the case policy), opens or updates those cases, and,
when decision webhooks are on, queues one ``decision`` delivery per acting decision in the
persisted outbox. Cases and outbox rows are written in one transaction, so a webhook is never
queued for a case change that rolled back. It is a class with ``write`` so that it can become
one of the engine's output sinks as they are introduced.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session

from trygg.cases import cases, outbox
from trygg.cases.cases import CasePolicy
from trygg.cases.intake import case_input
from trygg.decision import Decision

#: Outbox kind of a decision webhook.
KIND_DECISION = "decision"


class CaseSink:
    """Opens and updates cases from decisions; queues decision webhooks when asked to."""

    def __init__(self, database: SqlEngine, policy: CasePolicy | None = None, decision_webhooks: bool = False) -> None:
        self.database = database
        self.policy = policy or CasePolicy()
        self.decision_webhooks = decision_webhooks

    def write(self, engine: Any, outputs: Iterable[tuple[object, Decision]]) -> dict[str, str]:
        """Record the decisions of one batch; ``{event_id: case_id}`` of those in a case.

        ``engine`` is the trygg engine that made the decisions: its state names the parties
        (offender, victims, ages) that a decision itself does not carry.
        """
        linked: dict[str, str] = {}
        with Session(self.database) as session, session.begin():
            for event, decision in outputs:
                if decision.actions == ("allow",) or not (self.decision_webhooks or self.policy.triggers(decision)):
                    continue  # most decisions: nothing to file, nothing to announce
                item = case_input(engine, event, decision)
                case_id = cases.record_decision(session, item, self.policy) if item is not None else None
                if case_id:
                    linked[decision.event_id] = case_id
                if self.decision_webhooks and decision.actions != ("allow",):
                    payload = {"type": KIND_DECISION, **decision.as_dict()}
                    if case_id:
                        payload["case_id"] = case_id
                    outbox.enqueue(session, KIND_DECISION, payload, dedupe_key=f"decision:{decision.event_id}")
        return linked
