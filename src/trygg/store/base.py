"""SQLAlchemy declarative base and engine factory shared by every table in trygg.

One ``Base`` so that ``create_all`` sets up the whole schema on SQLite (the embedded default)
and PostgreSQL alike; ``TRYGG_DATABASE_URL`` picks the database.
"""

from __future__ import annotations

import os

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase

DEFAULT_DATABASE_URL = "sqlite:///trygg.db"


class Base(DeclarativeBase):
    """Declarative base for all trygg tables."""


def database_url(url: str | None = None) -> str:
    """The URL to use: explicit argument, then ``TRYGG_DATABASE_URL``, then local SQLite."""
    return url or os.environ.get("TRYGG_DATABASE_URL") or DEFAULT_DATABASE_URL


def _json_dumps(value: object) -> str:
    # Conversation state is written for every busy conversation in every batch; orjson makes
    # that serialisation several times cheaper than the standard library's.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode("utf-8")


def make_engine(url: str | None = None) -> Engine:
    """Create a SQLAlchemy engine; SQLite gets WAL and foreign keys, JSON goes through orjson."""
    resolved = database_url(url)
    engine = create_engine(resolved, future=True, json_serializer=_json_dumps, json_deserializer=orjson.loads)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine
