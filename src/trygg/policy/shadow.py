"""Shadow mode: a candidate policy decides beside the enforced one, and only the enforced acts.

Before a rule change goes live, a trust & safety team wants to know where it would decide
differently, on real traffic, without anyone being affected. :class:`ShadowEngine` wraps the
enforced :class:`~trygg.engine.Engine` and feeds every event to a second engine running the
candidate: the candidate keeps its own state (its own restrictions, flags and conversation
alerts, as if it were enforced), its decisions are never returned, and every event where the
two disagree is logged and kept. ``diff_policies`` does the same over a finished stream
(``trygg policy diff``).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from trygg.decision import Decision
from trygg.engine import Engine
from trygg.policy import Policy, PolicyError

log = logging.getLogger("trygg.policy.shadow")

#: Differences kept in memory (the log has them all).
MAX_KEPT = 10_000


def _rules(decision: Decision | None) -> list[str]:
    if decision is None:
        return []
    return sorted({str(r["rule"]) for r in decision.reasons if "rule" in r})


def difference(enforced: Decision | None, candidate: Decision | None) -> dict[str, object] | None:
    """How two decisions on the same event differ (actions, or the rules behind them), or None."""
    enforced_actions = list(enforced.actions) if enforced is not None else []
    candidate_actions = list(candidate.actions) if candidate is not None else []
    if enforced_actions == candidate_actions and _rules(enforced) == _rules(candidate):
        return None
    decided = enforced or candidate
    return {
        "event_id": decided.event_id if decided is not None else None,
        "enforced": enforced_actions,
        "candidate": candidate_actions,
        "enforced_rules": _rules(enforced),
        "candidate_rules": _rules(candidate),
        "enforced_policy": enforced.policy if enforced is not None else None,
        "candidate_policy": candidate.policy if candidate is not None else None,
    }


class ShadowEngine:
    """The enforced engine, with a candidate policy evaluated and logged beside it.

    Everything but ``process`` and the ``load_*`` calls goes to the enforced engine, so it drops
    in wherever an Engine is used (scan, the HTTP API)."""

    def __init__(self, enforced: Engine, candidate: Policy) -> None:
        self.enforced = enforced
        # The candidate's own mode is ignored: it never acts here, and we want what it would do.
        self.candidate = Engine(policy=replace(candidate, mode="enforce"), model=enforced.model, media=enforced.media)
        self.candidate.age_verifiers = enforced.age_verifiers
        self.differences: list[dict[str, object]] = []
        self.compared = 0

    def process(self, event: object) -> Decision | None:
        decision = self.enforced.process(event)
        shadow = self.candidate.process(event)
        self.candidate.drain_dirty()  # only the enforced state is persisted
        self.compared += 1
        diff = difference(decision, shadow)
        if diff is not None:
            log.info("policy %s would decide %s differently: %s", diff["candidate_policy"], diff["event_id"], diff)
            if len(self.differences) < MAX_KEPT:
                self.differences.append(diff)
        return decision

    def load_user(self, user_id: str, data: Mapping[str, object]) -> None:
        self.enforced.load_user(user_id, data)
        self.candidate.load_user(user_id, copy.deepcopy(data))  # the two states must never share parts

    def load_conversation(self, conversation_id: str, data: Mapping[str, object]) -> None:
        self.enforced.load_conversation(conversation_id, data)
        self.candidate.load_conversation(conversation_id, copy.deepcopy(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.enforced, name)


def with_shadow(engine: Engine, candidate_path: str | Path, fail: Callable[[str], Exception]) -> ShadowEngine:
    """``engine`` with the policy file at ``candidate_path`` in shadow (``trygg scan --shadow``)."""
    try:
        candidate = Policy.load(candidate_path)
    except (OSError, PolicyError) as exc:
        raise fail(f"shadow policy {candidate_path}: {exc}") from None
    return ShadowEngine(engine, candidate)


def diff_policies(enforced: Policy, candidate: Policy, events: Iterable[object], model: Any = None, verifiers: Mapping[str, Any] | None = None) -> list[dict[str, object]]:
    """Every event of ``events`` on which the two policies decide differently."""
    engine = Engine(policy=replace(enforced, mode="enforce"), model=model)
    engine.age_verifiers.update(verifiers or {})
    shadow = ShadowEngine(engine, candidate)
    for event in events:
        shadow.process(event)
    return shadow.differences
