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
from typing import IO, Any, Protocol

from trygg.decision import Decision


class Sink(Protocol):
    """Receives each batch's outputs, in order; ``close`` flushes what it holds."""

    def write(self, decisions: Sequence[Decision], alerts: Sequence[Mapping[str, Any]]) -> None: ...

    def close(self) -> None: ...


class CollectingSink:
    """Keeps decisions and alerts in memory: the API's synchronous answer, the demo, tests."""

    def __init__(self) -> None:
        self.decisions: list[Decision] = []
        self.alerts: list[Mapping[str, Any]] = []

    def write(self, decisions: Sequence[Decision], alerts: Sequence[Mapping[str, Any]]) -> None:
        self.decisions.extend(decisions)
        self.alerts.extend(alerts)

    def close(self) -> None:
        return None


class JsonlDecisionSink:
    """One JSON line per decision (``trygg scan --decisions FILE``)."""

    def __init__(self, target: Path | IO[str]) -> None:
        self._owned = isinstance(target, Path)
        self._handle: IO[str] = target.open("w", encoding="utf-8") if isinstance(target, Path) else target

    def write(self, decisions: Sequence[Decision], alerts: Sequence[Mapping[str, Any]]) -> None:  # noqa: ARG002
        self._handle.writelines(json.dumps(d.as_dict(), ensure_ascii=False) + "\n" for d in decisions)

    def close(self) -> None:
        if self._owned:
            self._handle.close()
        else:
            self._handle.flush()
