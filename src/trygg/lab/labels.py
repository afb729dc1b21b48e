"""Reading labels files (one JSON object per conversation, DESIGN.md "Labels for evaluation")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_labels(path: Path) -> tuple[dict[str, dict[str, Any]], list[tuple[int, str]]]:
    """Labels by conversation id, and ``(line, message)`` for each line that is not a label.

    Callers choose what a bad line means: evaluation reports it and goes on, training refuses
    (a model trained on a silently dropped label would lie about its data).
    """
    labels: dict[str, dict[str, Any]] = {}
    errors: list[tuple[int, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            label = json.loads(line)
            labels[str(label["conversation_id"])] = label
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            errors.append((number, f"not a label ({exc.__class__.__name__}: {exc})"))
    return labels, errors
