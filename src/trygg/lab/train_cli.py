"""``trygg train``: the model's command, registered on the main Typer app by ``trygg.cli``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from trygg.model import DEFAULT_ARTEFACTS


def register(app: typer.Typer) -> None:
    """Add ``train`` to the ``trygg`` command."""

    @app.command()
    def train(
        events: Annotated[Optional[Path], typer.Option(help="A platform's own events (JSON Lines, event format v1).")] = None,
        labels: Annotated[Optional[Path], typer.Option(help="Labels for EVENTS, one line per conversation.")] = None,
        out: Annotated[Optional[Path], typer.Option(help="Folder for the model files (default: the shipped model's).")] = None,
        folds: Annotated[int, typer.Option(min=2, max=20, help="Grouped cross-validation folds.")] = 5,
        as_json: Annotated[bool, typer.Option("--json", help="Print the held-out report as JSON only.")] = False,
        engine_report: Annotated[
            bool, typer.Option(help="Also measure the whole engine with the model (shared data only; ~2 min).")
        ] = True,
    ) -> None:
        """Train the conversation / author model; print held-out figures (grouped by offender and conversation).

        Without --events it reproduces the shipped model from ../shared/data (fixed seeds).
        """
        try:
            import sklearn  # noqa: F401  (only training needs it; inference is numpy)

            from trygg.lab import recipes
        except ImportError as exc:  # scikit-learn is the `train` extra
            typer.echo(f"training needs scikit-learn: pip install 'trygg[train]' ({exc})", err=True)
            raise typer.Exit(2) from None
        progress = (lambda _m: None) if as_json else (lambda m: typer.echo(f"· {m}", err=True))
        if (events is None) != (labels is None):
            typer.echo("give both --events and --labels, or neither", err=True)
            raise typer.Exit(2)
        for path in (events, labels):
            if path is not None and not path.is_file():
                typer.echo(f"{path}: no such file", err=True)
                raise typer.Exit(2)
        target = out or DEFAULT_ARTEFACTS
        try:
            if events is not None and labels is not None:
                report = recipes.train_platform(events, labels, target, folds=folds, progress=progress)
            else:
                report = recipes.train_shared(target, folds=folds, progress=progress, with_engine=engine_report)
        except ValueError as exc:
            typer.echo(f"cannot train: {exc}", err=True)
            raise typer.Exit(2) from None
        except FileNotFoundError as exc:
            typer.echo(f"cannot train: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        if not as_json:
            typer.echo(f"model written to {target}", err=True)
