"""Cases as an output: the sink that opens and updates review cases from each batch.

Every runner (``trygg scan``, ``trygg serve``, a cluster worker) writes its outputs through
sinks (:mod:`trygg.sinks`), so cases open the same way everywhere. The parties of a case come
from the engine's state (:func:`trygg.cases.intake.case_input`), read after the batch has been
decided: the latest the engine knows of who the offender is and who is a minor.
"""

from __future__ import annotations

from typing import Any

from trygg.cases.intake import case_input
from trygg.cases.service import CaseService
from trygg.sinks import Batch


class CaseSink:
    """Records every decision that triggers a case (``hold_for_review``, ``report`` by default),
    one transaction per batch; decisions that trigger none cost one check each."""

    def __init__(self, service: CaseService, engine: Any) -> None:
        self.service = service
        self.engine = engine

    def write(self, batch: Batch) -> None:
        triggers = self.service.policy.triggers
        items = [
            item
            for event, decision in batch.decided
            if triggers(decision) and (item := case_input(self.engine, event, decision)) is not None
        ]
        if items:
            self.service.record_many(items)

    def close(self) -> None:
        return None
