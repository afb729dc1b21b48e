"""The schema under Alembic: fresh databases, the upgrade from the create_all schema of earlier
releases (on SQLite and PostgreSQL), what a Store does with a database that is behind, and no
drift between the models and the migrations."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from trygg.cli import app
from trygg.store.base import Base, make_engine
from trygg.store.repository import Store
from trygg.store.schema import SchemaError, SchemaOutOfDate, current_revision, head_revision, import_table_modules

#: Tables that revisions after the baseline added: absent from a create_all schema of before.
ADDED_SINCE_BASELINE = {"media_hashes", "sink_outbox"}


def _old_create_all_schema(url: str) -> None:
    """The schema as ``create_all`` made it before migrations, with a few rows in it."""
    assert not import_table_modules()
    engine = create_engine(url)
    old = [table for name, table in Base.metadata.tables.items() if name not in ADDED_SINCE_BASELINE]
    Base.metadata.create_all(engine, tables=old)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO events (event_id, type, conversation_id, ingested_at) VALUES ('e1', 'message', 'c1', :at)"),
            {"at": "2026-01-01T00:00:00+00:00"},
        )
        connection.execute(
            text("INSERT INTO alerts (conversation_id, first_alert_event_id, label_guess, risk, reasons, raised_at) "
                 "VALUES ('c1', 'e1', 'grooming', 0.9, '[]', :at)"),
            {"at": "2026-01-01T00:00:00+00:00"},
        )
    engine.dispose()


def test_a_fresh_database_is_migrated_to_head_and_matches_the_models(database_url: str) -> None:
    store = Store(database_url)
    assert current_revision(store.engine) == head_revision()
    import_table_modules()
    with store.engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert drift == [], "models and migrations differ: write a revision (alembic revision --autogenerate)"


def test_db_upgrade_adopts_the_create_all_schema_and_keeps_its_rows(database_url: str) -> None:
    _old_create_all_schema(database_url)
    runner = CliRunner()
    behind = runner.invoke(app, ["db", "current", "--db", database_url])
    assert behind.exit_code == 1 and "current none" in behind.output

    result = runner.invoke(app, ["db", "upgrade", "--db", database_url])
    assert result.exit_code == 0, result.output
    assert f"none -> {head_revision()}" in result.output
    assert runner.invoke(app, ["db", "current", "--db", database_url]).exit_code == 0
    engine = make_engine(database_url)
    assert ADDED_SINCE_BASELINE <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert connection.execute(text("SELECT first_alert_event_id FROM alerts")).scalar_one() == "e1"
    assert Store(database_url).counts()["events"] == 1
    # Upgrading again is a no-op, not an error.
    assert runner.invoke(app, ["db", "upgrade", "--db", database_url]).exit_code == 0


@pytest.mark.postgres_only(reason="a shared database is refused, not upgraded, when behind; SQLite upgrades itself (below)")
def test_a_shared_database_behind_is_refused_naming_the_upgrade(database_url: str) -> None:
    _old_create_all_schema(database_url)
    with pytest.raises(SchemaOutOfDate, match="trygg db upgrade"):
        Store(database_url)


@pytest.mark.sqlite_only(reason="the embedded database upgrades itself; a shared one is refused (above)")
def test_an_embedded_database_behind_upgrades_itself(database_url: str) -> None:
    _old_create_all_schema(database_url)
    store = Store(database_url)
    assert current_revision(store.engine) == head_revision()
    assert store.counts()["alerts"] == 1


def test_a_database_from_a_newer_release_is_refused(database_url: str) -> None:
    store = Store(database_url)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(SchemaError, match="f00d, unknown to this trygg"):
        Store(database_url)
