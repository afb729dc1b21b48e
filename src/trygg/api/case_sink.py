"""The output sink from decisions to cases and decision webhooks.

After a batch is decided and stored, :class:`CaseSink` (a :class:`trygg.sinks.Sink`) asks the
case library which decisions need a person (:func:`trygg.cases.intake.case_input` and the case
policy), opens or updates those cases, and, when decision webhooks are on, queues one
``decision`` delivery per acting decision in the persisted outbox. Cases and outbox rows are
written in one transaction, so a webhook is never queued for a case change that rolled back.

A decision does not name its parties; the engine's state and the event do. So the sink holds
the engine and a way to find a decision's event (``event_of``: the batch's events by id, in
the API).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
    """Opens and updates cases from decisions; queues decision webhooks when asked to.

    ``linked`` collects ``{event_id: case_id}`` of the decisions filed in a case."""

    def __init__(
        self,
        database: SqlEngine,
        engine: Any,
        event_of: Callable[[str], object | None],
        policy: CasePolicy | None = None,
        decision_webhooks: bool = False,
    ) -> None:
        self.database = database
        self.engine = engine
        self.event_of = event_of
        self.policy = policy or CasePolicy()
        self.decision_webhooks = decision_webhooks
        self.linked: dict[str, str] = {}

    def write(self, decisions: Sequence[Decision], alerts: Sequence[Mapping[str, Any]] = ()) -> None:  # noqa: ARG002 - alerts are not cases
        wanted = [d for d in decisions if d.actions != ("allow",) and (self.decision_webhooks or self.policy.triggers(d))]
        if not wanted:
            return  # most batches: nothing to file, nothing to announce
        with Session(self.database) as session, session.begin():
            for decision in wanted:
                event = self.event_of(decision.event_id)
                item = case_input(self.engine, event, decision) if event is not None else None
                case_id = cases.record_decision(session, item, self.policy) if item is not None else None
                if case_id:
                    self.linked[decision.event_id] = case_id
                if self.decision_webhooks:
                    payload = {"type": KIND_DECISION, **decision.as_dict()}
                    if case_id:
                        payload["case_id"] = case_id
                    outbox.enqueue(session, KIND_DECISION, payload, dedupe_key=f"decision:{decision.event_id}")

    def close(self) -> None:
        return None
