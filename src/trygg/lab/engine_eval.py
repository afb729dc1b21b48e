"""The whole engine with the learned model fused in, measured on data the model never saw.

The model alone is not what a platform runs: the engine fuses it with the rules. So the
training report also runs :class:`trygg.engine.Engine` with the model — the fold model for each
Perverted-Justice conversation (grouped by offender, so the model never saw that offender), the
final model for sets never trained on (scenarios, the written fixture chats) and for the benign
sets (whose own figures are also reported cross-validated by :mod:`trygg.lab.pipeline`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from trygg.model.conversation_model import ConversationModel


def _engine(model: ConversationModel | None) -> Any:
    from trygg.compose import Settings, build_engine

    return build_engine(Settings(model=model is not None, media=False), model=model)


def _brief(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "overall": report["overall"],
        "per_language": report["per_language"],
        "per_label": report["per_label"],
        "hard_negatives": report["hard_negatives"],
        "offender_identification": report["offender_identification"],
        "early_warning": report.get("early_warning"),
        "false_alarms": report["false_alarms"],
    }


def pj_cross_validated(
    fold_models: Sequence[ConversationModel], fold_of: dict[str, int], max_messages: int | None
) -> dict[str, Any]:
    """pj through the engine, each conversation with the fold model that never saw its offender."""
    from trygg.lab import datasets
    from trygg.lab.evaluation import evaluate_conversations
    from trygg.events import MessageEvent

    by_fold: dict[int, list[Any]] = {}
    for conv in datasets.pj():
        if conv.conversation_id not in fold_of:
            continue
        if max_messages is not None:
            kept, count = [], 0
            for event in conv.events:
                count += isinstance(event, MessageEvent)
                if count > max_messages:
                    break
                kept.append(event)
            conv.events = kept
        by_fold.setdefault(fold_of[conv.conversation_id], []).append(conv)
    total = flagged = correct = 0
    for k, convs in sorted(by_fold.items()):
        report = evaluate_conversations(convs, _engine(fold_models[k]))
        total += report["overall"]["conversations"]
        flagged += sum(v["flagged"] for v in report["per_label"].values())
        correct += report["offender_identification"]["correct"]
    return {
        "conversations": total,
        "messages_per_conversation_cap": max_messages,
        "flagged": flagged,
        "recall": round(flagged / total, 4) if total else 0.0,
        "offender_identified": round(correct / flagged, 4) if flagged else 0.0,
    }


def engine_report(
    model: ConversationModel,
    fold_models: Sequence[ConversationModel],
    fold_of: dict[str, int],
    pj_max_messages: int | None,
    fixture_conversations: Callable[[], list[Any]],
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Engine figures with the model (and, for the same sets, rules only for comparison)."""
    from trygg.lab import datasets
    from trygg.lab.evaluation import evaluate_conversations

    out: dict[str, Any] = {}
    progress("engine + fold models on pj (grouped by offender)")
    out["pj"] = pj_cross_validated(fold_models, fold_of, pj_max_messages)
    for name, load in (
        ("scenarios", datasets.scenarios),
        ("dailydialog", datasets.dailydialog),
        ("nps", datasets.nps_chat),
        ("fixtures", fixture_conversations),
    ):
        progress(f"engine on {name}")
        conversations = load()
        out[name] = {
            "with_model": _brief(evaluate_conversations(conversations, _engine(model))),
            "rules_only": _brief(evaluate_conversations(conversations, _engine(None))),
        }
    return out
