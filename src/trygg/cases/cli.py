"""Case, audit, vault and outbox commands for the ``trygg`` CLI.

``register(app)`` adds the groups ``cases`` (list, show, labels, grant), ``audit`` (verify, head),
``vault`` (purge, rotate-key) and ``outbox`` (deliver). The CLI acts as reviewer ``cli`` with
``admin``: whoever can run it already holds the database. Exit codes: 0 done, 1 the check
failed (a broken audit chain, a failed rewrap), 2 unusable arguments.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

DbOption = Annotated[Optional[str], typer.Option("--db", help="Database URL (default: $TRYGG_DATABASE_URL or sqlite:///trygg.db).")]
CLI_ACTOR = "cli"


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _session(engine):  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import Session

    return Session(engine)


def _engine(db: str | None):  # type: ignore[no-untyped-def]
    import trygg.cases.tables  # noqa: F401  (registers the case tables)
    from trygg.store.base import Base, make_engine

    engine = make_engine(db)
    Base.metadata.create_all(engine)
    return engine


def _cli_reviewer():  # type: ignore[no-untyped-def]
    from trygg.cases.permissions import ADMIN, Reviewer

    return Reviewer(CLI_ACTOR, frozenset({ADMIN}))


def _time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        from trygg.cases import clock

        return clock.utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise _fail(f"{option}: not an RFC 3339 time: {value!r}") from None


# ---------------------------------------------------------------- cases
cases_app = typer.Typer(help="Review cases: list the queue, show a case, export reviewer labels, grant reviewers.", no_args_is_help=True)


@cases_app.command("list")
def cases_list(
    db: DbOption = None,
    status: Annotated[Optional[list[str]], typer.Option("--status", help="Only these statuses (default: open and escalated).")] = None,
    offender: Annotated[Optional[str], typer.Option(help="Only this offender's cases.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Cases in queue order (highest priority first)."""
    from trygg.cases.cases import ACTIVE_STATUSES, CaseError
    from trygg.cases.service import CaseService

    service = CaseService(_engine(db))
    try:
        found = service.list(_cli_reviewer(), statuses=status or ACTIVE_STATUSES, offender_id=offender, limit=limit)
    except CaseError as exc:
        raise _fail(str(exc)) from None
    for case in found:
        if as_json:
            typer.echo(json.dumps(case.as_dict(), ensure_ascii=False))
        else:
            typer.echo(
                f"{case.case_id}  {case.status:<9}  priority {case.priority():7.1f}  risk {case.max_risk:.2f}  "
                f"{'minor ' if case.minor_involved else ''}{case.label_guess:<12}  offender {case.offender_id}  "
                f"victims {len(case.victims)}  conversations {len(case.conversations)}  reports {case.user_reports}"
            )


@cases_app.command("show")
def cases_show(case_id: Annotated[str, typer.Argument(help="Case id (k-...).")], db: DbOption = None) -> None:
    """One case as JSON with its history (never its evidence: that needs evidence:view in the console)."""
    from trygg.cases import clock
    from trygg.cases.cases import CaseError
    from trygg.cases.service import CaseService

    service = CaseService(_engine(db))
    reviewer = _cli_reviewer()
    try:
        case = service.case(reviewer, case_id)
    except CaseError as exc:
        raise _fail(str(exc)) from None
    history = [
        {"seq": e.seq, "at": clock.iso(e.at), "actor": e.actor, "action": e.action, "detail": e.detail} for e in service.history(reviewer, case_id)
    ]
    typer.echo(json.dumps({**case.as_dict(), "history": history}, ensure_ascii=False, indent=2))


@cases_app.command("labels")
def cases_labels(
    out: Annotated[Path, typer.Option("--out", help="Write labels (JSON Lines) here.")],
    db: DbOption = None,
) -> None:
    """Reviewer outcomes as labels for ``trygg train --labels`` (docs/cases.md)."""
    from trygg.cases.service import CaseService

    labels = CaseService(_engine(db)).export_labels(_cli_reviewer())
    with out.open("w", encoding="utf-8") as handle:
        for label in labels:
            handle.write(json.dumps(label, ensure_ascii=False) + "\n")
    typer.echo(f"{len(labels)} labels written to {out}", err=True)


@cases_app.command("grant")
def cases_grant(
    reviewer_id: Annotated[str, typer.Argument(help="The reviewer's id (as the console knows them).")],
    grant: Annotated[list[str], typer.Option("--grant", help="A role (viewer, reviewer, specialist, admin) or a permission; repeat.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    db: DbOption = None,
) -> None:
    """Create a reviewer or replace their permissions (audited)."""
    from trygg.cases.permissions import add_reviewer

    with _session(_engine(db)) as session, session.begin():
        try:
            reviewer = add_reviewer(session, CLI_ACTOR, reviewer_id, grant, name=name)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    typer.echo(json.dumps({"reviewer_id": reviewer.reviewer_id, "permissions": sorted(reviewer.permissions)}))


# ---------------------------------------------------------------- audit
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    db: DbOption = None,
    anchor: Annotated[Optional[str], typer.Option(help="SEQ:HASH copied earlier from `trygg audit head`.")] = None,
) -> None:
    """Recompute the chain; exit 1 naming the first altered, removed or inserted entry."""
    from trygg.cases.audit import verify_chain

    parsed = None
    if anchor is not None:
        seq, _, digest = anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise _fail(f"--anchor: expected SEQ:HASH (64 hex digits), got {anchor!r}")
        parsed = (int(seq), digest.lower())
    with _session(_engine(db)) as session:
        report = verify_chain(session, anchor=parsed)
    typer.echo(report.message(), err=not report.ok)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("head")
def audit_head(db: DbOption = None) -> None:
    """Print SEQ:HASH of the last entry (copy it elsewhere; verify against it later)."""
    from trygg.cases.audit import head

    with _session(_engine(db)) as session:
        seq, digest = head(session)
    typer.echo(f"{seq}:{digest}")


# ---------------------------------------------------------------- vault
vault_app = typer.Typer(help="The evidence vault: retention and keys.", no_args_is_help=True)


def _keyring(key_file: Path | None):  # type: ignore[no-untyped-def]
    from trygg.cases.vault import Keyring, VaultKeyError

    try:
        return Keyring.from_file(key_file) if key_file else Keyring.from_environment()
    except VaultKeyError as exc:
        raise _fail(str(exc)) from None


@vault_app.command("purge")
def vault_purge(
    db: DbOption = None,
    now: Annotated[Optional[str], typer.Option(help="Purge as of this time (RFC 3339; default: now).")] = None,
) -> None:
    """Delete the evidence of every case whose hold has ended (each purge audited)."""
    from trygg.cases.vault import purge_expired

    at = _time(now, "--now")
    with _session(_engine(db)) as session, session.begin():
        purged = purge_expired(session, at, actor=CLI_ACTOR)
    typer.echo(json.dumps({"purged_cases": purged}))


@vault_app.command("rotate-key")
def vault_rotate_key(
    key_file: Annotated[Path, typer.Option("--key-file", help="The keyring file (created if absent).")],
    db: DbOption = None,
    rewrap_items: Annotated[bool, typer.Option("--rewrap", help="Re-seal stored items under the active key instead of adding a key.")] = False,
    key_id: Annotated[Optional[str], typer.Option(help="Id of the new key (default: generated).")] = None,
) -> None:
    """Add a new active key to KEY_FILE (old keys kept), or with --rewrap re-seal every item under the active key."""
    from trygg.cases.vault import VaultError, key_ids_in_use, rewrap, rotate_keyfile

    if not rewrap_items:
        try:
            keyring = rotate_keyfile(key_file, key_id)
        except VaultError as exc:
            raise _fail(str(exc)) from None
        typer.echo(json.dumps({"active": keyring.active, "keys": sorted(keyring.keys)}))
        return
    keyring = _keyring(key_file)
    engine = _engine(db)
    try:
        with _session(engine) as session, session.begin():
            count = rewrap(session, keyring, actor=CLI_ACTOR)
    except VaultError as exc:
        raise _fail(str(exc), code=1) from None
    with _session(engine) as session:
        in_use = key_ids_in_use(session)
    typer.echo(json.dumps({"rewrapped": count, "active": keyring.active, "items_per_key": in_use}))


# ---------------------------------------------------------------- outbox
outbox_app = typer.Typer(help="Deliveries waiting to go out.", no_args_is_help=True)


@outbox_app.command("deliver")
def outbox_deliver(
    url: Annotated[str, typer.Option(help="Webhook URL for account_restricted deliveries.")],
    db: DbOption = None,
    secret_env: Annotated[Optional[str], typer.Option(help="Environment variable holding the HMAC secret.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many deliveries.")] = 100,
) -> None:
    """Deliver due account_restricted rows to URL once (run it from cron or a loop)."""
    from trygg.cases.outbox import deliver_due, webhook_sender
    from trygg.cases.service import KIND_ACCOUNT_RESTRICTED

    secret = None
    if secret_env is not None:
        if not os.environ.get(secret_env):
            raise _fail(f"--secret-env: ${secret_env} is not set")
        secret = os.environ[secret_env].encode("utf-8")
    result = deliver_due(_engine(db), {KIND_ACCOUNT_RESTRICTED: webhook_sender(url, secret)}, limit=limit)
    typer.echo(json.dumps({"delivered": result.delivered, "failed": result.failed, "dead": result.dead}))


def register(app: typer.Typer) -> None:
    app.add_typer(cases_app, name="cases")
    app.add_typer(audit_app, name="audit")
    app.add_typer(vault_app, name="vault")
    app.add_typer(outbox_app, name="outbox")
