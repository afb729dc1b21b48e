"""Report commands for the ``trygg`` CLI: ``trygg report dsa`` and ``trygg report ncmec-validate``.

``register(app)`` adds the ``report`` group. Exit codes: 0 done (bad input lines are reported on
stderr and skipped), 1 the document is invalid or nothing could be read, 2 unusable arguments.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

report_app = typer.Typer(help="Reports for hotlines and regulators: DSA transparency figures, statements of reasons, NCMEC.", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


@report_app.command("dsa")
def dsa_command(
    start: Annotated[str, typer.Option("--from", help="First day of the period (YYYY-MM-DD, UTC).")],
    end: Annotated[str, typer.Option("--to", help="Last day of the period, inclusive (YYYY-MM-DD, UTC).")],
    records: Annotated[Path, typer.Option("--records", help="Moderation records, JSON Lines (see docs/reports.md).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the figures (JSON, CSV, SVG) and statements of reasons.")],
) -> None:
    """DSA transparency figures for 'Protection of minors' and one statement of reasons per restriction."""
    from trygg.reports.dsa import Period, actions_per_day_svg, figures_csv, figures_json, transparency_figures
    from trygg.reports.moderation import ModerationRecord, RecordError, read_records
    from trygg.reports.sor import write_statements

    try:
        period = Period(_date(start, "--from"), _date(end, "--to"))
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if not records.is_file():
        raise _fail(f"{records}: no such file")
    valid: list[ModerationRecord] = []
    rejected = 0
    for item in read_records(records):
        if isinstance(item, RecordError):
            rejected += 1
            typer.echo(f"rejected {records}:{item}", err=True)
        else:
            valid.append(item)
    in_period = [r for r in valid if period.contains(r.action_time)]
    figures = transparency_figures(in_period, period)
    out.mkdir(parents=True, exist_ok=True)
    (out / "dsa-figures.json").write_text(figures_json(figures), encoding="utf-8")
    (out / "dsa-figures.csv").write_text(figures_csv(figures), encoding="utf-8", newline="")
    (out / "actions-per-day.svg").write_text(actions_per_day_svg(figures), encoding="utf-8")
    with (out / "statements-of-reasons.jsonl").open("w", encoding="utf-8") as handle:
        errors = write_statements(in_period, handle)
    for error in errors:
        typer.echo(f"no statement of reasons for {error}", err=True)
    typer.echo(
        f"{len(in_period)} actions in {period.start}..{period.end} "
        f"({len(valid) - len(in_period)} outside the period, {rejected} lines rejected); "
        f"{len(in_period) - len(errors)} statements of reasons; written to {out}"
    )
    if not valid and rejected:
        raise typer.Exit(1)


@report_app.command("ncmec-validate")
def ncmec_validate_command(
    file: Annotated[Path, typer.Argument(help="A CyberTipline <report> or <fileDetails> XML document.")],
) -> None:
    """Check an XML document against trygg's CyberTipline schema (order and required elements)."""
    try:
        from trygg.reports.ncmec import validation_errors
    except ImportError as exc:
        raise _fail(f"NCMEC validation needs the 'reports' extra: {exc}") from None
    if not file.is_file():
        raise _fail(f"{file}: no such file")
    errors = validation_errors(file.read_bytes())
    for error in errors:
        typer.echo(f"{file}: {error}", err=True)
    if errors:
        raise typer.Exit(1)
    typer.echo(f"{file}: valid")


def register(app: typer.Typer) -> None:
    """Add the ``report`` command group to the main ``trygg`` app."""
    app.add_typer(report_app, name="report")
