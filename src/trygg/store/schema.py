"""The schema's version: Alembic migrations, and what a Store does with a database it opens.

Every table module of the project is listed in :data:`TABLE_MODULES`; the migrations'
``env.py`` and the schema test import them all, so autogenerate and the drift check see the
whole schema, not just what one command happened to import. A new table module is one more line
there and one new revision in ``migrations/versions``.

What :func:`ensure_schema` (called by every :class:`~trygg.store.repository.Store`) does:

* an empty database (nothing of trygg in it) is migrated to the head revision, on SQLite and
  PostgreSQL alike: creating a schema from nothing loses nothing;
* a database at the head revision is used as it is;
* an embedded SQLite database that is behind (an older revision, or a schema made by
  ``create_all`` before migrations existed) is upgraded in place: one process owns it;
* a shared (PostgreSQL) database that is behind is refused with :class:`SchemaOutOfDate`, naming
  ``trygg db upgrade``: many workers share it, and a schema change there is an operator's step,
  taken once, not a race between workers starting;
* a database at a revision this release does not know (a newer trygg migrated it) is refused.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from trygg.store.base import Base

#: Every module that defines tables on :class:`trygg.store.base.Base`. Optional ones (their
#: package's extra may be absent) are imported when they can be; the tables are plain
#: SQLAlchemy, so in practice all of them import.
TABLE_MODULES: tuple[str, ...] = (
    "trygg.store.tables",
    "trygg.store.rescan_tables",
    "trygg.api.keys",
    "trygg.api.audit",
    "trygg.media.store",
    "trygg.reports.tables",
    "trygg.cases.tables",
    "trygg.web.auth",
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The table Alembic keeps the revision in.
VERSION_TABLE = "alembic_version"


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this release as it is."""


class SchemaOutOfDate(SchemaError):
    """A shared database is behind this release: an operator runs ``trygg db upgrade``."""


def import_table_modules() -> list[str]:
    """Import every table module (so ``Base.metadata`` holds the whole schema); returns the
    ones that could not be imported."""
    missing = []
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the shipped migrations, bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database to ``revision``; returns the revision it is at afterwards.

    A schema made by ``create_all`` before migrations existed needs no stamp: the first
    revision creates only the tables that are missing and keeps the ones there (with their
    rows), and every later revision runs as usual.
    """
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)
    return current_revision(engine)


def ensure_schema(engine: Engine) -> None:
    """Make the database usable by this release or refuse it, as the module docstring says."""
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    if current is not None and current not in _known_revisions():
        raise SchemaError(
            f"the database is at schema revision {current}, unknown to this trygg (head {head}): "
            "a newer release migrated it"
        )
    embedded = engine.dialect.name == "sqlite"
    if embedded or _is_empty(engine):
        upgrade(engine)
        return
    found = current or "a schema without a revision (made before migrations)"
    raise SchemaOutOfDate(
        f"the database is at {found}, this trygg needs {head}: run `trygg db upgrade --db URL` once, "
        "then start the workers"
    )


def _known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def _is_empty(engine: Engine) -> bool:
    """Whether the database holds none of trygg's tables (a fresh database)."""
    import_table_modules()

    existing = set(inspect(engine).get_table_names())
    return not (existing & (set(Base.metadata.tables) | {VERSION_TABLE}))


def create_schema(engine: Engine) -> None:
    """Bring the database to this release's schema revision (``trygg.store.schema``), then
    create every table registered on :class:`Base` that does not exist yet.

    A table registers itself when its module is imported: the core tables through
    ``trygg.store.repository``, the API's keys and audit log through ``trygg.api``, the hash
    banks through ``trygg.media``. The store never imports the packages above it; whoever uses a
    table imports its module first, and calling this again later adds the tables it brought.
    Tables a revision covers are made by the migrations; ``create_all`` adds only tables merged
    before their revision, which that revision then adopts as they are.
    """
    ensure_schema(engine)
    Base.metadata.create_all(engine)
