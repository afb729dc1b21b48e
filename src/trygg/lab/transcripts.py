"""Transcripts as messages: whole chat chunks sent as one message each, through the engine.

Why: a platform sees transcripts too (a child pasting what someone keeps writing, a chunk copied
from another app), and the PAN 2012-style evaluation gives each segment of a chat as one text
with no speakers. This builds such a set from the shared data — Perverted-Justice conversations
(harmful) and DailyDialog dialogues and NPS room sessions (benign, real) — as events in the
project's format, one message per chunk, and measures ``trygg scan``'s engine on it::

    python -m trygg.lab.transcripts [--per-source N] [--json]

A source with fewer conversations than chunks asked for (NPS) gives several chunks of each, from
different places. Chunk lengths are drawn from 300 to 2,500 characters, cut at a random place in the conversation;
lines are joined by a newline or a space (half each), never with speaker names. The semantic
head was trained on Perverted-Justice stretches (every offender), so the pj recall here is
in-sample for it and an upper bound; the benign sources' flag rates are the informative part.
Nothing of the data is printed: the report has counts and metrics only.

``--written DIR`` measures the same reading on the written corpus instead (``corpus/written``,
:mod:`trygg.lab.written`): each conversation becomes one chunk (all its lines, joined as above,
no speaker names), scored by :func:`trygg.model.classify.classify_text` with the semantic model,
the path ``trygg classify`` takes; precision, recall and F1 per language and split::

    python -m trygg.lab.transcripts --written corpus/written --languages de,nl [--split dev]
"""

from __future__ import annotations

import argparse
import json
import random
from itertools import cycle, islice
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from trygg.events import MessageEvent
from trygg.lab import datasets
from trygg.lab.evaluation import evaluate_events

SEED = 20261202
MIN_CHARS, MAX_CHARS = 300, 2500


def _chunk(lines: Sequence[str], rng: random.Random) -> str:
    joiner = "\n" if rng.random() < 0.5 else " "
    target = rng.randint(MIN_CHARS, MAX_CHARS)
    start = rng.randrange(max(1, len(lines) - 4))
    return joiner.join(datasets.lines_from(list(lines), start, target))


def transcript_set(per_source: int = 150, root: Any = None) -> tuple[list[MessageEvent], dict[str, dict[str, Any]]]:
    """Events (one message per chunk) and labels in the evaluator's format."""
    rng = random.Random(SEED)
    sources = {
        "pj": [c for c in datasets.pj(root)],
        "dailydialog": [c for c in datasets.dailydialog(root)],
        "nps": [c for c in datasets.nps_chat(root)],
    }
    events: list[MessageEvent] = []
    labels: dict[str, dict[str, Any]] = {}
    sent_at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for source, conversations in sources.items():
        rng.shuffle(conversations)
        made = 0
        # A source of few long conversations (NPS: 7 room sessions) gives several chunks of each.
        for conversation in islice(cycle(conversations), 4 * per_source):
            if made >= per_source:
                break
            lines = [m.text for m in conversation.messages if m.text]
            text = _chunk(lines, rng)
            if len(text) < MIN_CHARS:
                continue
            cid = f"t-{source}-{made}"
            made += 1
            events.append(
                MessageEvent(
                    type="message", event_id=f"{cid}-m", conversation_id=cid, sender_id=f"{cid}-poster",
                    recipient_id=f"{cid}-reader", text=text, sent_at=sent_at,
                )
            )
            harmful = source == "pj"
            labels[cid] = {
                "conversation_id": cid, "label": "grooming" if harmful else "benign", "offender_id": f"{cid}-poster" if harmful else None,
                "first_harmful_event_id": f"{cid}-m" if harmful else None, "language": "en", "hard_negative": False, "kind": source,
            }
    return events, labels


def written_transcripts(
    root: Any, languages: Sequence[str] | None = None, split: str | None = None
) -> list[tuple[str, str, str, bool, str]]:
    """Each conversation of the written corpus as one chunk: ``(id, language, split, harmful, text)``.

    All the conversation's lines, joined by a newline or a space (drawn per conversation from a
    fixed seed, as :func:`_chunk` draws them), never with speaker names."""
    from trygg.lab.written import read_written

    rng = random.Random(SEED)
    out = []
    for conversation in read_written(root):
        joiner = "\n" if rng.random() < 0.5 else " "
        if (languages is not None and conversation.language not in languages) or (split is not None and conversation.split != split):
            continue
        text = joiner.join(m.text for m in conversation.messages)
        out.append((conversation.id, conversation.language, conversation.split, conversation.harmful, text))
    return out


def _prf(pairs: Sequence[tuple[bool, bool]]) -> dict[str, Any]:
    """Precision, recall and F1 of (truth, flagged) pairs, with the counts behind them."""
    tp = sum(t and f for t, f in pairs)
    fp = sum(f and not t for t, f in pairs)
    fn = sum(t and not f for t, f in pairs)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(pairs), "harmful": sum(t for t, _ in pairs), "tp": tp, "fp": fp, "fn": fn,
        "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
    }


def run_written(root: Any, languages: Sequence[str] | None = None, split: str | None = None) -> dict[str, Any]:
    """:func:`classify_text` (semantic model and rules) on the written corpus as chunks: precision,
    recall and F1 per language, per language and split, and over all; plus the language
    :func:`classify_text` read off each chunk (how often it was the conversation's own)."""
    from trygg.model.classify import classify_text
    from trygg.model.semantic import load_semantic

    semantic = load_semantic()
    groups: dict[str, list[tuple[bool, bool]]] = {}
    read_as: dict[str, dict[str, int]] = {}
    for _cid, language, part, harmful, text in written_transcripts(root, languages, split):
        result = classify_text(text, semantic)
        flagged = result["label"] == "predatory"
        for key in ("all", language, f"{language}/{part}"):
            groups.setdefault(key, []).append((harmful, flagged))
        seen = read_as.setdefault(language, {})
        seen[str(result["language"])] = seen.get(str(result["language"]), 0) + 1
    return {
        "semantic": semantic is not None,
        "metrics": {key: _prf(pairs) for key, pairs in sorted(groups.items())},
        "language_read": read_as,
    }


def run(per_source: int = 150, transcripts: bool = True) -> dict[str, Any]:
    """The engine (default settings, rules + model) on the transcript set; flag rate per source."""
    from trygg.compose import Settings, build_engine

    events, labels = transcript_set(per_source)
    engine = build_engine(Settings(media=False, transcripts=transcripts))
    report = evaluate_events(events, labels, engine)
    flagged: dict[str, list[int]] = {}
    for cid, label in labels.items():
        counts = flagged.setdefault(str(label["kind"]), [0, 0])
        counts[0] += bool(engine.summary(cid).get("flagged"))
        counts[1] += 1
    return {
        "overall": report["overall"],
        "flag_rate_by_source": {k: round(a / b, 4) for k, (a, b) in flagged.items()},
        "chunks_by_source": {k: b for k, (_a, b) in flagged.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trygg.lab.transcripts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-source", type=int, default=150, help="chunks per source (pj, dailydialog, nps)")
    parser.add_argument("--no-transcripts", action="store_true", help="the ablation: the transcript detector off")
    parser.add_argument("--written", metavar="DIR", help="the written corpus instead: one chunk per conversation, classify_text")
    parser.add_argument("--languages", help="with --written: comma-separated language codes (e.g. de,nl)")
    parser.add_argument("--split", choices=("dev", "locked"), help="with --written: one split only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.written is not None:
        from trygg.lab.written import parse_languages

        languages = parse_languages(args.languages) if args.languages else None
        report = run_written(args.written, languages, args.split)
    elif args.languages or args.split:
        parser.error("--languages and --split go with --written")
    else:
        report = run(args.per_source, transcripts=not args.no_transcripts)
    print(json.dumps(report, indent=None if args.json else 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
