"""``trygg db``: the schema's revision, and the upgrade an operator runs once per release.

An embedded SQLite database upgrades itself when a Store opens it; a shared PostgreSQL one is
upgraded here, before the workers of the new release start (they refuse a stale schema).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

db_app = typer.Typer(help="The database schema: its revision and upgrades (Alembic).", no_args_is_help=True)

DbOption = Annotated[Optional[str], typer.Option("--db", help="Database URL (default: $TRYGG_DATABASE_URL or sqlite:///trygg.db).")]


@db_app.command("upgrade")
def upgrade_command(db: DbOption = None, revision: Annotated[str, typer.Option(help="Target revision.")] = "head") -> None:
    """Migrate the database to REVISION (a schema made before migrations is adopted as it is)."""
    from trygg.store.base import make_engine
    from trygg.store.schema import current_revision, upgrade

    engine = make_engine(db)
    before = current_revision(engine)
    after = upgrade(engine, revision)
    typer.echo(f"{before or 'none'} -> {after}")


@db_app.command("current")
def current_command(db: DbOption = None) -> None:
    """Print the database's revision and this release's head; exit 1 when they differ."""
    from trygg.store.base import make_engine
    from trygg.store.schema import current_revision, head_revision

    current, head = current_revision(make_engine(db)), head_revision()
    typer.echo(f"current {current or 'none'}, head {head}")
    if current != head:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
