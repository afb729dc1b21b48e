"""The two ways to train: the shipped model from ``../shared/data``, or a platform's own data.

Both go through :func:`trygg.model.pipeline.fit` (grouped cross-validation, held-out figures
from the real inference code) and save plain arrays + JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from trygg.model.pipeline import Outcome, fit, score_conversation, summarise
from trygg.model.training import SEED, Replayed, groups_for, replay

#: Text-stage weight per message role (source, and "-offender" for the offender's own lines).
TEXT_ROLE_WEIGHTS = {"pj-offender": 1.0, "pj": 0.4, "nps": 0.3, "dailydialog": 0.3}
FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "chats"


def read_labelled(events_path: Path, labels_path: Path, source: str) -> list[Replayed]:
    """Conversations of an events file with their labels, replayed; a label without messages
    or a conversation without a label is an error (training on a silent default would lie)."""
    from trygg.events import AccountEvent, MessageEvent, read_events

    labels: dict[str, dict[str, object]] = {}
    for number, line in enumerate(labels_path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            label = json.loads(line)
            labels[str(label["conversation_id"])] = label
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{labels_path}: line {number}: not a label ({exc})") from None
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


def read_fixture_chats(folder: Path = FIXTURES) -> list[Replayed]:
    """The project's written adult-adult and teen-teen chats (benign, never trained on)."""
    from trygg.events import read_events

    out = []
    for path in sorted(folder.glob("*/*.jsonl")):
        events = [p.event for p in read_events(path, strict=True)]
        language = "sv" if "-sv" in path.stem else "en"
        out.append(replay(path.stem, events, {"label": "benign", "language": language}, f"fixtures-{path.parent.name}"))
    return out


def _with_groups(conversations: list[Replayed]) -> list[str]:
    """Groups by conversation and offender; a source's own grouping (a chat room) is kept too."""
    keys = [(f"{c.group}", c.offender) for c in conversations]
    return groups_for(keys)


def train_shared(out: Path, folds: int = 5, progress: Callable[[str], None] = print) -> dict[str, object]:
    """Reproduce the shipped model; held-out figures on pj (by offender), benign sets, and on
    the scenarios and fixture chats that training never sees."""
    from trygg import datasets
    from trygg.model.corpus import SOURCE_WEIGHTS, shared_corpus

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
    unseen = [replay(c.conversation_id, c.events, c.label, "scenarios") for c in datasets.scenarios()]
    unseen += read_fixture_chats()
    outcomes: list[Outcome] = [score_conversation(fitted.model, c) for c in unseen]
    report = {
        "cross_validated": summarise(fitted.cv_outcomes),
        "never_trained_on": summarise(outcomes),
        "hard_negatives_flagged": sum(
            1 for c, o in zip(unseen, outcomes) if o.flagged and _hard_negative(c.conversation_id)
        ),
    }
    fitted.model.metadata["report"] = report
    fitted.model.save(out)
    return report


def _hard_negative(conversation_id: str) -> bool:
    from trygg import datasets

    labels = {c.conversation_id: c.label for c in datasets.scenarios()}
    return bool(labels.get(conversation_id, {}).get("hard_negative"))


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
    report = {"cross_validated": summarise(fitted.cv_outcomes)}
    fitted.model.metadata["report"] = report
    fitted.model.save(out)
    return report

