"""Report commands for the ``trygg`` CLI: ``trygg report dsa``, ``trygg report ncmec`` and
``trygg report ncmec-validate``.

``register(app)`` adds the ``report`` group. ``dsa`` reads moderation records from a file or, by
default, from the store; ``ncmec`` builds one case's CyberTipline report from the store, acting
as the CLI's admin reviewer like ``trygg cases``. Exit codes: 0 done (bad input lines are
reported on stderr and skipped), 1 the document is invalid, nothing could be read or the case is
unknown, 2 unusable arguments.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from trygg.commands.cases import DbOption, _cli_reviewer, _engine

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
    out: Annotated[Path, typer.Option("--out", help="Folder for the figures (JSON, CSV, SVG) and statements of reasons.")],
    records: Annotated[
        Optional[Path], typer.Option("--records", help="Moderation records, JSON Lines (see docs/reports.md); default: the store's decisions.")
    ] = None,
    db: DbOption = None,
) -> None:
    """DSA transparency figures for 'Protection of minors' and one statement of reasons per restriction."""
    from trygg.reports.dsa import Period, actions_per_day_svg, figures_csv, figures_json, transparency_figures
    from trygg.reports.moderation import ModerationRecord, RecordError, read_records
    from trygg.reports.sor import write_statements

    try:
        period = Period(_date(start, "--from"), _date(end, "--to"))
    except ValueError as exc:
        raise _fail(str(exc)) from None
    valid: list[ModerationRecord] = []
    rejected = 0
    if records is None:
        from trygg.reports.from_store import moderation_records

        valid = moderation_records(_engine(db), period.start, period.end)
    elif db is not None:
        raise _fail("--records and --db are two sources; give one")
    elif not records.is_file():
        raise _fail(f"{records}: no such file")
    else:
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


@report_app.command("ncmec")
def ncmec_command(
    case_id: Annotated[str, typer.Argument(help="Case id (k-...).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for <case>.xml and, with preserved messages, <case>-chat.csv.")],
    reporter_email: Annotated[str, typer.Option("--reporter-email", help="Contact email of the person filing (required by NCMEC).")],
    reporter_name: Annotated[
        Optional[str], typer.Option("--reporter-name", help="The reporting organisation, written as the report's platform.")
    ] = None,
    service: Annotated[Optional[str], typer.Option("--service", help="ESP service name of the reported and victim accounts.")] = None,
    db: DbOption = None,
) -> None:
    """One case's CyberTipline report from the store: XML (validated) and the chat log CSV."""
    try:
        from trygg.cases.to_ncmec import ncmec_report_input
        from trygg.reports.ncmec import ReportValidationError, Reporter, build_ncmec_report, chat_csv
    except ImportError as exc:
        raise _fail(f"NCMEC reports need the 'reports' extra: {exc}") from None
    from trygg.cases.cases import CaseError
    from trygg.cases.service import CaseService
    from trygg.cases.vault import VaultKeyError
    from trygg.compose import Settings, load_keyring

    if "@" not in reporter_email.strip("@") or any(c.isspace() for c in reporter_email):
        raise _fail(f"--reporter-email: {reporter_email!r} is not an email address")
    for option, value in (("--reporter-name", reporter_name), ("--service", service)):
        if value is not None and not value.strip():
            raise _fail(f"{option}: empty")
    try:
        keyring = load_keyring(Settings())
    except VaultKeyError as exc:
        raise _fail(str(exc)) from None
    engine = _engine(db)
    service_ = CaseService(engine, keyring=keyring)
    reviewer = _cli_reviewer()
    try:
        case = service_.case(reviewer, case_id)
        report = service_.case_report(reviewer, case_id, age_pictures=_age_pictures(engine, (case.offender_id, *case.victims)))
    except CaseError as exc:
        raise _fail(str(exc), 1) from None
    except VaultKeyError as exc:
        raise _fail(f"{exc}: set TRYGG_VAULT_KEY_FILE or TRYGG_VAULT_KEYS", 1) from None
    report_input = ncmec_report_input(report, Reporter(email=reporter_email), esp_service=service, platform=reporter_name)
    try:
        document = build_ncmec_report(report_input)
    except (ReportValidationError, ValueError) as exc:
        raise _fail(f"case {case_id}: the report does not validate: {exc}", 1) from None
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{case_id}.xml").write_bytes(document)
    if report_input.messages:
        (out / f"{case_id}-chat.csv").write_bytes(chat_csv(report_input.messages))
        chat = f"chat log of {len(report_input.messages)} messages in {case_id}-chat.csv"
    elif keyring is None:
        chat = "no vault keyring configured and nothing preserved: no chat log (text-only report)"
    else:
        chat = "no preserved messages: no chat log (text-only report; escalate with evidence to add one)"
    typer.echo(f"{case_id}: {report_input.incident_type}, {len(report_input.victims)} victims; {chat}; written to {out}")


def _age_pictures(engine, user_ids: tuple[str, ...]) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """The stored age pictures of the case's parties (the best age estimates in the report)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from trygg.store.tables import UserRow

    with Session(engine) as session:
        rows = session.execute(select(UserRow.user_id, UserRow.age_picture).where(UserRow.user_id.in_(user_ids))).all()
    return {user_id: picture for user_id, picture in rows if picture}


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
