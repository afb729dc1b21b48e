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
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from dataclasses import dataclass, field
from typing import IO, Any, Protocol, runtime_checkable

from trygg.decision import Decision
from trygg.events import Event


@dataclass(frozen=True)
class Batch:
    """What one batch decided: each processed event with its decision, and the conversations
    that became alerts. Events are as the engine saw them (media already prepared)."""

    decided: Sequence[tuple[Event, Decision]]
    alerts: Sequence[Mapping[str, Any]] = ()
    #: Who each decision is about, by event id, where the engine that decided is not at hand
    #: (a cluster worker read it right after its decision): ``trygg.cases.intake.CaseInput``
    #: or None. A sink that needs the parties reads them here first, else from its engine.
    parties: Mapping[str, Any] = field(default_factory=dict)
    #: The decisions replace ones given for the same events before (``trygg rescan --events``):
    #: an output that announces decisions once per event announces each changed one once more.
    redecided: bool = False

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


@runtime_checkable
class OutboxSink(Protocol):
    """A sink whose output is exactly-once across crashes (a file a restart must not repeat).

    The scan renders a batch's bytes, commits them with the batch (``Store.write_batch``'s
    ``outbox``: the output's length with the batch in it, and the bytes), and only then calls
    :meth:`append`. A restart hands :meth:`recover` what the store last committed, and the
    sink cuts its output back to before that batch and appends it once more: whether the crash
    came before the commit, between the commit and the write, or half way through the write,
    the output ends holding every committed batch once and nothing uncommitted.

    A sink whose bytes are one piece per decision, in order, whatever the alerts, may say so
    with a ``render_decision`` attribute: a plain function of one decision (picklable, so a
    cluster worker renders its own share and the writer only concatenates the shares).
    """

    key: str
    end: int

    def render(self, decisions: Sequence[Decision], alerts: Sequence[Mapping[str, Any]]) -> bytes: ...

    def recover(self, committed: tuple[int, bytes] | None) -> None: ...

    def append(self, payload: bytes, end: int) -> None: ...

    def close(self) -> None: ...


def decision_line(decision: Decision) -> bytes:
    """One decision as a line of ``trygg scan --decisions`` (what :class:`JsonlDecisionSink` writes)."""
    return (json.dumps(decision.as_dict(), ensure_ascii=False) + "\n").encode("utf-8")


class RecoveryError(RuntimeError):
    """An output is shorter than what the store says was committed to it: it was changed
    outside trygg, and appending to it would hide that."""


class ExactlyOnceJsonlSink:
    """``trygg scan --decisions FILE`` with a store: one JSON line per decision, exactly once.

    ``key`` names this output in the store (the CLI derives it from the file and the input it
    decides), so a rerun of the same scan resumes the same file and a new scan starts afresh.
    Lines are those of :class:`JsonlDecisionSink`, byte for byte.
    """

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self.end = 0
        self._handle: IO[bytes] | None = None

    def render(self, decisions: Sequence[Decision], alerts: Sequence[Mapping[str, Any]]) -> bytes:  # noqa: ARG002
        return b"".join(map(decision_line, decisions))

    #: Its bytes are one line per decision, alerts aside: a partitioned runner renders each
    #: worker's share where it was decided (see :class:`OutboxSink`).
    render_decision = staticmethod(decision_line)

    def recover(self, committed: tuple[int, bytes] | None) -> None:
        handle = self.path.open("r+b" if self.path.exists() else "w+b")
        if committed is None:  # nothing committed for this output yet: it starts empty
            handle.truncate(0)
        else:
            end, pending = committed
            start = end - len(pending)
            size = handle.seek(0, os.SEEK_END)
            if size < start:
                handle.close()
                raise RecoveryError(
                    f"{self.path} holds {size} bytes but the store committed {start} before its last batch: "
                    "the file was changed outside trygg; move it away to write a fresh one"
                )
            handle.truncate(start)
            handle.seek(start)
            handle.write(pending)
            self.end = end
        handle.flush()
        os.fsync(handle.fileno())
        self._handle = handle

    def append(self, payload: bytes, end: int) -> None:
        assert self._handle is not None, "recover() opens the output"
        self._handle.write(payload)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.end = end

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
