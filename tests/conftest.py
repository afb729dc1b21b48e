"""Shared fixtures: where the shared data lives, and a real PostgreSQL when one is reachable."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip that says why."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent: data-driven test skipped")
    return SHARED_DATA


#: ``TRYGG_TEST_DATABASE=postgres`` (the CI's second pass, ``.ci/run``): store-using tests that
#: take ``sqlite_url`` get a fresh PostgreSQL database instead, so they run on both.
ON_POSTGRES = os.environ.get("TRYGG_TEST_DATABASE", "sqlite") == "postgres"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: tests SQLite itself; keeps SQLite when TRYGG_TEST_DATABASE=postgres")


@pytest.fixture
def sqlite_url(request, tmp_path: Path) -> str:
    """The test's store: an SQLite file, or a PostgreSQL database on the CI's second pass."""
    if ON_POSTGRES and request.node.get_closest_marker("sqlite_only") is None:
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path}/trygg-test.db"


@pytest.fixture
def postgres_url():
    """A fresh schema-isolated database on the local PostgreSQL, dropped afterwards."""
    base = os.environ.get("TRYGG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        from sqlalchemy import create_engine, text
    except ImportError:  # pragma: no cover
        pytest.skip("SQLAlchemy missing")
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = f"trygg_{uuid.uuid4().hex[:12]}"
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means: no server here
        pytest.skip(f"PostgreSQL not reachable at {base}: {exc.__class__.__name__}")
    url = base.rsplit("/", 1)[0] + "/" + name
    yield url
    from sqlalchemy.pool import NullPool  # noqa: F401

    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
