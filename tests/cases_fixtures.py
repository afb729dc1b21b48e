"""A database with the case tables, on SQLite and on PostgreSQL (skipped when unreachable).

Test modules import ``db_engine`` from here; it runs each test once per database.
"""

from __future__ import annotations

import pytest

import trygg.cases.tables  # noqa: F401  (registers the case tables on Base)
from trygg.store.base import Base, make_engine


@pytest.fixture(params=["sqlite", "postgres"])
def db_engine(request):  # type: ignore[no-untyped-def]
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
