"""Outputs behind one small interface: a sink takes each batch's decisions and new alerts.

``trygg scan``, ``trygg serve`` and the cluster runners all end the same way: the batch is
persisted (events, state, decisions and alerts in one transaction), then every sink is given
what the batch decided. A JSON Lines file, the API's answer, cases, webhooks are sinks, so a new
output is one new class and its test, and no runner grows a special case for it.

Sinks are written after the store's transaction commits, so an output never announces a
decision the store does not hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from dataclasses import dataclass
from typing import IO, Any, Protocol

from trygg.decision import Decision
from trygg.events import Event


@dataclass(frozen=True)
class Batch:
    """What one batch decided: each processed event with its decision, and the conversations
    that became alerts. Events are as the engine saw them (media already prepared)."""

    decided: Sequence[tuple[Event, Decision]]
    alerts: Sequence[Mapping[str, Any]] = ()

    @property
    def decisions(self) -> list[Decision]:
        return [decision for _event, decision in self.decided]


class Sink(Protocol):
    """Receives each batch's outputs, in order; ``close`` flushes what it holds."""

    def write(self, batch: Batch) -> None: ...

    def close(self) -> None: ...


class CollectingSink:
    """Keeps decisions and alerts in memory: the API's synchronous answer, the demo, tests."""

    def __init__(self) -> None:
        self.decisions: list[Decision] = []
        self.alerts: list[Mapping[str, Any]] = []

    def write(self, batch: Batch) -> None:
        self.decisions.extend(batch.decisions)
        self.alerts.extend(batch.alerts)

    def close(self) -> None:
        return None


class JsonlDecisionSink:
    """One JSON line per decision (``trygg scan --decisions FILE``)."""

    def __init__(self, target: Path | IO[str]) -> None:
        self._owned = isinstance(target, Path)
        self._handle: IO[str] = target.open("w", encoding="utf-8") if isinstance(target, Path) else target

    def write(self, batch: Batch) -> None:
        self._handle.writelines(json.dumps(d.as_dict(), ensure_ascii=False) + "\n" for d in batch.decisions)

    def close(self) -> None:
        if self._owned:
            self._handle.close()
        else:
            self._handle.flush()
