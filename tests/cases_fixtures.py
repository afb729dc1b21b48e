"""A database with the case tables: SQLite, or PostgreSQL on the PostgreSQL pass (tests/conftest.py).

Test modules import ``db_engine`` from here.
"""

from __future__ import annotations

import pytest

import trygg.cases.tables  # noqa: F401  (registers the case tables on Base)
from trygg.store.base import Base, make_engine


@pytest.fixture
def db_engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
