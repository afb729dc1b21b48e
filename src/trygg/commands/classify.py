"""``trygg classify``: score texts without speaker turns (transcripts, chat chunks, reports).

Input: text files (each file one text) or JSON Lines files (``.jsonl``) of ``{"id", "text"}``;
``-`` reads JSON Lines from standard input. Output: one JSON line per text,
``{"id", "score", "label", "rules", "semantic", "signals", "language"}`` (see
:mod:`trygg.model.classify`). A JSON line without a string ``text`` is reported on standard
error with its line number and skipped; the others are scored. Exit codes: 0 scored, 1 some
input was rejected, 2 unusable arguments.
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer


def _texts(path: Path, errors: list[str]) -> Iterator[tuple[str, str]]:
    if str(path) != "-" and path.suffix.lower() not in (".jsonl", ".ndjson"):
        yield path.name, path.read_text(encoding="utf-8", errors="replace")
        return
    opened = nullcontext(sys.stdin) if str(path) == "-" else path.open(encoding="utf-8", errors="replace")
    with opened as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{path}:{number}: not JSON ({exc.msg})")
                continue
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                errors.append(f"{path}:{number}: field 'text' must be a string")
                continue
            yield str(item.get("id", f"{path.name}:{number}")), item["text"]


def register(app: typer.Typer) -> None:
    """Add ``classify`` to the ``trygg`` command."""

    @app.command()
    def classify(
        inputs: Annotated[list[Path], typer.Argument(help="Text files, or .jsonl files of {\"id\", \"text\"} ('-' = JSON Lines on stdin).")],
        no_semantic: Annotated[bool, typer.Option("--no-semantic", help="Rules only (the ablation).")] = False,
    ) -> None:
        """Score each text as a whole (no speakers): rules on the text plus the semantic model."""
        from trygg.model.classify import classify_text
        from trygg.model.semantic import load_semantic

        for path in inputs:
            if str(path) != "-" and not path.is_file():
                typer.echo(f"{path}: no such file", err=True)
                raise typer.Exit(2)
        semantic = None if no_semantic else load_semantic()
        if semantic is None and not no_semantic:
            typer.echo("semantic model not installed (pip install 'trygg[semantic]'): rules only", err=True)
        errors: list[str] = []
        for path in inputs:
            for text_id, text in _texts(path, errors):
                result = {"id": text_id, **classify_text(text, semantic)}
                typer.echo(json.dumps(result, ensure_ascii=False))
        for error in errors:
            typer.echo(error, err=True)
        if errors:
            raise typer.Exit(1)
