"""Alembic environment: the whole trygg schema, migrated on the connection trygg hands over.

Every table module named in :data:`trygg.store.schema.TABLE_MODULES` is imported, so
``alembic revision --autogenerate`` compares the database with the complete schema.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from trygg.store.base import Base, database_url
from trygg.store.schema import import_table_modules

import_table_modules()
target_metadata = Base.metadata


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    # render_as_batch: SQLite alters tables by copying them; Alembic's batch mode does that.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _migrate(connection)
else:  # the plain ``alembic`` command line (writing a revision): TRYGG_DATABASE_URL
    engine = create_engine(database_url(context.config.get_main_option("sqlalchemy.url") or None))
    with engine.begin() as own_connection:
        _migrate(own_connection)
