"""Evaluation the way the field measures it (DESIGN.md, "Evaluation").

Conversation level: precision, recall, F1 and F0.5 of harmful vs benign (PAN 2012 ranks
sexual-predator identification by F0.5), overall, per language and per label. Offender
identification. Early warning: messages from ``first_harmful_event_id`` to the first alert, and
the latency-weighted F1 of early sexual predator detection (Vogt et al., 2021). False alarms per
1,000 benign messages, with hard negatives counted apart.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Vogt et al. (2021) latency penalty steepness over messages.
LATENCY_P = 0.005


def latency_penalty(k: int, p: float = LATENCY_P) -> float:
    """penalty(k) = -1 + 2 / (1 + e^(-p(k-1))): 0 for an alert at the first message, -> 1 late."""
    return -1.0 + 2.0 / (1.0 + math.exp(-p * (k - 1)))


def f_beta(precision: float, recall: float, beta: float) -> float:
    if precision == 0.0 and recall == 0.0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


@dataclass
class Counts:
    """Confusion counts of harmful (positive) vs benign (negative) conversations."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, harmful: bool, flagged: bool) -> None:
        if harmful and flagged:
            self.tp += 1
        elif harmful:
            self.fn += 1
        elif flagged:
            self.fp += 1
        else:
            self.tn += 1

    def as_dict(self) -> dict[str, Any]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return {
            "conversations": self.tp + self.fp + self.fn + self.tn,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f_beta(precision, recall, 1.0), 4),
            "f0_5": round(f_beta(precision, recall, 0.5), 4),
        }


@dataclass
class ConversationOutcome:
    """What the engine did with one labelled conversation."""

    conversation_id: str
    label: Mapping[str, Any]
    flagged: bool
    offender_id: str | None
    label_guess: str | None
    message_ids: list[str]
    first_alert_event_id: str | None
    severe_actions: int = 0


@dataclass
class Evaluation:
    outcomes: list[ConversationOutcome] = field(default_factory=list)

    def add(self, outcome: ConversationOutcome) -> None:
        self.outcomes.append(outcome)

    def report(self) -> dict[str, Any]:
        overall = Counts()
        per_language: dict[str, Counts] = defaultdict(Counts)
        per_label: dict[str, dict[str, int]] = defaultdict(lambda: {"conversations": 0, "flagged": 0})
        hard_negatives = {"conversations": 0, "flagged": 0, "flagged_ids": []}
        offender_hits = offender_total = 0
        label_hits = 0
        delays: list[int] = []
        alerts_before_first_harmful = 0
        penalties: list[float] = []
        benign_messages = benign_severe = hard_messages = hard_severe = 0

        for o in self.outcomes:
            label = str(o.label.get("label", "benign"))
            harmful = label != "benign"
            language = str(o.label.get("language") or "unknown")
            overall.add(harmful, o.flagged)
            per_language[language].add(harmful, o.flagged)
            per_label[label]["conversations"] += 1
            per_label[label]["flagged"] += int(o.flagged)
            if o.label.get("hard_negative"):
                hard_negatives["conversations"] += 1
                hard_messages += len(o.message_ids)
                hard_severe += o.severe_actions
                if o.flagged:
                    hard_negatives["flagged"] += 1
                    hard_negatives["flagged_ids"].append(o.conversation_id)
            elif not harmful:
                benign_messages += len(o.message_ids)
                benign_severe += o.severe_actions
            if not (harmful and o.flagged):
                continue
            offender_total += 1
            offender_hits += int(o.offender_id is not None and o.offender_id == o.label.get("offender_id"))
            label_hits += int(o.label_guess == label)
            position = {event_id: index for index, event_id in enumerate(o.message_ids)}
            alert_at = position.get(o.first_alert_event_id or "", None)
            if alert_at is None:
                continue
            penalties.append(latency_penalty(alert_at + 1))
            first_harmful = o.label.get("first_harmful_event_id")
            if first_harmful in position:
                delay = alert_at - position[str(first_harmful)]
                delays.append(delay)
                alerts_before_first_harmful += int(delay < 0)

        counts = overall.as_dict()
        speed = 1.0 - statistics.median(penalties) if penalties else 0.0
        return {
            "overall": counts,
            "per_language": {lang: c.as_dict() for lang, c in sorted(per_language.items())},
            "per_label": {
                label: {**v, "flagged_share": round(v["flagged"] / v["conversations"], 4) if v["conversations"] else 0.0}
                for label, v in sorted(per_label.items())
            },
            "hard_negatives": {
                **hard_negatives,
                "flagged_share": round(hard_negatives["flagged"] / hard_negatives["conversations"], 4)
                if hard_negatives["conversations"]
                else 0.0,
            },
            "offender_identification": {
                "flagged_harmful": offender_total,
                "correct": offender_hits,
                "accuracy": round(offender_hits / offender_total, 4) if offender_total else 0.0,
            },
            "label_guess_accuracy": round(label_hits / offender_total, 4) if offender_total else 0.0,
            "early_warning": {
                "measured": len(delays),
                "median_messages_after_first_harmful": statistics.median(delays) if delays else None,
                "alerts_before_first_harmful": alerts_before_first_harmful,
                "speed": round(speed, 4),
                "latency_weighted_f1": round(counts["f1"] * speed, 4),
            },
            "false_alarms": {
                "benign_messages": benign_messages,
                "severe_actions": benign_severe,
                "per_1000_messages": round(1000 * benign_severe / benign_messages, 3) if benign_messages else 0.0,
                "hard_negative_messages": hard_messages,
                "hard_negative_severe_actions": hard_severe,
                "hard_negative_per_1000_messages": round(1000 * hard_severe / hard_messages, 3) if hard_messages else 0.0,
            },
        }


def evaluate_events(events: Iterable[Any], labels: Mapping[str, Mapping[str, Any]], engine: Any) -> dict[str, Any]:
    """Run an event stream through ``engine`` and score each labelled conversation.

    Events go through one engine in stream order, as in production: user state (age pictures)
    is shared across conversations, conversation state is not. Conversations without a label
    are processed but not scored.
    """
    from trygg.events import MessageEvent

    message_ids: dict[str, list[str]] = defaultdict(list)
    severe: dict[str, int] = defaultdict(int)
    for event in events:
        decision = engine.process(event)
        if isinstance(event, MessageEvent):
            message_ids[event.conversation_id].append(event.event_id)
            if decision is not None and decision.severe:
                severe[event.conversation_id] += 1
    evaluation = Evaluation()
    for cid, label in labels.items():
        summary = engine.summary(cid) if cid in message_ids else {}
        evaluation.add(
            ConversationOutcome(
                conversation_id=cid,
                label=label,
                flagged=bool(summary.get("flagged")),
                offender_id=summary.get("offender_id"),
                label_guess=summary.get("label_guess"),
                message_ids=message_ids.get(cid, []),
                first_alert_event_id=summary.get("first_alert_event_id"),
                severe_actions=severe.get(cid, 0),
            )
        )
    return evaluation.report()


def evaluate_conversations(conversations: Iterable[Any], engine: Any) -> dict[str, Any]:
    """Evaluate ``trygg.lab.datasets.LabelledConversation`` objects (events in order, then labels)."""
    conversations = list(conversations)
    events = (event for conversation in conversations for event in conversation.events)
    labels = {c.conversation_id: c.label for c in conversations}
    return evaluate_events(events, labels, engine)
