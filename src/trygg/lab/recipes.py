"""The two ways to train: the shipped model from ``../shared/data``, or a platform's own data.

Both go through :func:`trygg.lab.pipeline.fit` (grouped cross-validation, held-out figures
from the real inference code) and save plain arrays + JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from trygg.lab.pipeline import Outcome, fit, score_conversation, summarise
from trygg.lab.training import SEED, Replayed, groups_for, replay

#: Text-stage weight per message role (source, and "-offender" for the offender's own lines).
TEXT_ROLE_WEIGHTS = {"pj-offender": 1.0, "pj": 0.4, "nps": 0.3, "dailydialog": 0.3}
FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "chats"


def read_labelled(events_path: Path, labels_path: Path, source: str) -> list[Replayed]:
    """Conversations of an events file with their labels, replayed; a label without messages
    or a conversation without a label is an error (training on a silent default would lie)."""
    from trygg.events import AccountEvent, MessageEvent, read_events

    from trygg.lab.labels import read_labels

    labels, errors = read_labels(labels_path)
    if errors:
        number, message = errors[0]
        raise ValueError(f"{labels_path}: line {number}: {message}")
    accounts: dict[str, AccountEvent] = {}
    grouped: dict[str, list[object]] = {}
    for parsed in read_events(events_path):
        event = parsed.event
        if isinstance(event, AccountEvent):
            accounts[event.user_id] = event
        elif isinstance(event, MessageEvent):
            grouped.setdefault(event.conversation_id, []).append(event)
    unlabelled = sorted(set(grouped) - set(labels))
    if unlabelled:
        raise ValueError(f"{len(unlabelled)} conversations have no label, e.g. {unlabelled[:3]}")
    missing = sorted(set(labels) - set(grouped))
    if missing:
        raise ValueError(f"{len(missing)} labels have no messages in {events_path}, e.g. {missing[:3]}")
    out = []
    for cid in sorted(grouped):
        messages = grouped[cid]
        users = {m.sender_id for m in messages} | {m.recipient_id for m in messages if m.recipient_id}  # type: ignore[attr-defined]
        events = [accounts[u] for u in sorted(users) if u in accounts] + messages
        out.append(replay(cid, events, labels[cid], source))
    return out


def fixture_conversations(folder: Path = FIXTURES) -> list[object]:
    """The project's written adult-adult and teen-teen chats as labelled (benign) conversations."""
    from trygg.lab.datasets import LabelledConversation
    from trygg.events import read_events

    out = []
    for path in sorted(folder.glob("*/*.jsonl")):
        events = [p.event for p in read_events(path, strict=True)]
        label = {
            "conversation_id": path.stem,
            "label": "benign",
            "offender_id": None,
            "first_harmful_event_id": None,
            "language": "sv" if "-sv" in path.stem else "en",
            "hard_negative": False,
        }
        out.append(LabelledConversation(path.stem, events, label))
    return out


def _with_groups(conversations: list[Replayed]) -> list[str]:
    """Groups by conversation and offender; a source's own grouping (a chat room) is kept too."""
    keys = [(f"{c.group}", c.offender) for c in conversations]
    return groups_for(keys)


def train_shared(
    out: Path, folds: int = 5, progress: Callable[[str], None] = print, with_engine: bool = True
) -> dict[str, object]:
    """Reproduce the shipped model; held-out figures on pj (by offender), benign sets, and on
    the scenarios and fixture chats that training never sees."""
    from trygg.lab import datasets
    from trygg.lab.corpus import PJ_MAX_MESSAGES, SOURCE_WEIGHTS, shared_corpus
    from trygg.lab.engine_eval import engine_report

    conversations = shared_corpus(progress)
    fitted = fit(
        conversations,
        _with_groups(conversations),
        SOURCE_WEIGHTS,
        TEXT_ROLE_WEIGHTS,
        folds=folds,
        progress=progress,
        metadata={"trained_on": "shared", "seed": SEED, "sources": sorted(SOURCE_WEIGHTS)},
    )
    progress("scenarios and fixture chats (never trained on)")
    scenarios = datasets.scenarios()
    unseen = [replay(c.conversation_id, c.events, c.label, "scenarios") for c in scenarios]
    unseen += [replay(c.conversation_id, c.events, c.label, "fixtures") for c in fixture_conversations()]
    outcomes: list[Outcome] = [score_conversation(fitted.model, c) for c in unseen]
    hard = {c.conversation_id for c in scenarios if c.label.get("hard_negative")}
    report: dict[str, object] = {
        "model_alone": {
            "cross_validated": summarise(fitted.cv_outcomes),
            "never_trained_on": summarise(outcomes),
            "scenario_hard_negatives_flagged": sum(1 for o in outcomes if o.flagged and o.conversation_id in hard),
        }
    }
    if with_engine:
        report["engine_with_model"] = engine_report(
            fitted.model, fitted.fold_models, fitted.fold_of, PJ_MAX_MESSAGES, fixture_conversations, progress
        )
    fitted.model.metadata["report"] = report
    fitted.model.save(out)
    return report


def train_platform(events: Path, labels: Path, out: Path, folds: int = 5, progress: Callable[[str], None] = print) -> dict[str, object]:
    """Train on a platform's own labelled events; held-out figures from grouped CV."""
    conversations = read_labelled(events, labels, "platform")
    harmful = sum(1 for c in conversations if c.harmful)
    if harmful < folds or len(conversations) - harmful < folds:
        raise ValueError(
            f"need at least {folds} harmful and {folds} benign conversations for {folds}-fold grouped CV "
            f"(got {harmful} harmful, {len(conversations) - harmful} benign)"
        )
    groups = _with_groups(conversations)
    if len(set(groups)) < folds:
        raise ValueError(f"only {len(set(groups))} independent groups (by conversation and offender); need {folds}")
    fitted = fit(
        conversations, groups, {"platform": 1.0}, {"platform-offender": 1.0, "platform": 1.0},
        folds=folds, progress=progress, metadata={"trained_on": str(events), "seed": SEED},
    )
    report = {"model_alone": {"cross_validated": summarise(fitted.cv_outcomes)}}
    fitted.model.metadata["report"] = report
    fitted.model.save(out)
    return report

