"""``trygg reviewer``: console accounts (who a reviewer is; the case library says what they may do).

``reviewer create NAME --role specialist`` creates or updates a reviewer with those roles or
permissions and sets their password (asked twice on a terminal, or read from stdin with
``--password-stdin``); only an Argon2id hash is stored. ``reviewer disable NAME`` ends their
access at the next request.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

reviewer_app = typer.Typer(help="Review console accounts (roles: viewer, reviewer, specialist, admin).", no_args_is_help=True)
CLI_ACTOR = "cli"


def _database(db: str | None):  # type: ignore[no-untyped-def]
    import trygg.cases.tables  # noqa: F401  (registers the case tables)
    import trygg.web.auth  # noqa: F401  (registers the console tables)
    from trygg.store.base import Base, make_engine

    engine = make_engine(db)
    Base.metadata.create_all(engine)
    return engine


@reviewer_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The reviewer id they sign in with.")],
    role: Annotated[list[str], typer.Option("--role", help="A role (viewer, reviewer, specialist, admin) or permission; repeat for several.")],
    display_name: Annotated[str, typer.Option("--name", help="Their name as shown in the console.")] = "",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")] = False,
    db: Annotated[Optional[str], typer.Option("--db", help="Database URL (default: $TRYGG_DATABASE_URL or sqlite:///trygg.db).")] = None,
) -> None:
    """Create or update a reviewer and set their password."""
    from trygg.web.auth import create_reviewer

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        reviewer = create_reviewer(_database(db), CLI_ACTOR, name, role, password, name=display_name)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"reviewer {reviewer.reviewer_id}: {', '.join(sorted(reviewer.permissions))}")


@reviewer_app.command("disable")
def disable(
    name: Annotated[str, typer.Argument(help="The reviewer id.")],
    db: Annotated[Optional[str], typer.Option("--db", help="Database URL.")] = None,
) -> None:
    """Deactivate a reviewer: their sessions stop working at the next request."""
    from sqlalchemy.orm import Session

    from trygg.cases.permissions import UnknownReviewer, deactivate_reviewer

    try:
        with Session(_database(db)) as session, session.begin():
            deactivate_reviewer(session, CLI_ACTOR, name)
    except UnknownReviewer:
        typer.echo(f"error: no reviewer {name!r}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"reviewer {name} disabled")


def register(app: typer.Typer) -> None:
    app.add_typer(reviewer_app, name="reviewer")
