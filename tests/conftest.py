"""Shared fixtures: where the shared data lives, and the database every store-using test gets.

The suite runs twice (``.ci/run``): on SQLite, and with ``TRYGG_TEST_DATABASE=postgres`` on
the PostgreSQL server of ``TRYGG_TEST_POSTGRES_URL``. A test that needs a database takes
``database_url`` (or ``new_database_url`` for a second one) and never builds its own
``sqlite:///`` URL: on the first pass that is an SQLite file in the test's ``tmp_path``, on the
second a fresh PostgreSQL database, dropped when the test ends. Two markers, each with a reason:

* ``sqlite_only(reason=...)``: the test is about SQLite itself (a file on disk, the embedded
  self-upgrade); it keeps SQLite on the PostgreSQL pass.
* ``postgres_only(reason=...)``: the test needs PostgreSQL (concurrent writers); it runs on the
  PostgreSQL pass and is skipped on the SQLite pass.

On the PostgreSQL pass a test that is not ``sqlite_only`` and still writes an SQLite database
into its ``tmp_path`` or the working folder fails: it slipped past the fixture.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

#: ``TRYGG_TEST_DATABASE=postgres`` (the CI's second pass): every database is PostgreSQL.
ON_POSTGRES = os.environ.get("TRYGG_TEST_DATABASE", "sqlite") == "postgres"
POSTGRES_BASE_URL = os.environ.get("TRYGG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: Test databases are named ``trygg_test_<hex>`` and dropped by the fixture that made them.
DATABASE_PREFIX = "trygg_test_"
_SQLITE_MAGIC = b"SQLite format 3\x00"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip that says why."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent: data-driven test skipped")
    return SHARED_DATA


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): tests SQLite itself; keeps SQLite when TRYGG_TEST_DATABASE=postgres")
    config.addinivalue_line("markers", "postgres_only(reason): needs PostgreSQL; runs only when TRYGG_TEST_DATABASE=postgres")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name in ("sqlite_only", "postgres_only"):
            marker = item.get_closest_marker(name)
            if marker is not None and not marker.kwargs.get("reason"):
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.{name} needs a reason=")
        marker = item.get_closest_marker("postgres_only")
        if marker is not None and not ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason=f"PostgreSQL only ({marker.kwargs['reason']}): runs with TRYGG_TEST_DATABASE=postgres"))


class _Postgres:
    """Creates and drops the test databases on the server (one admin connection pool a session)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._admin = None

    def create(self) -> str:
        from sqlalchemy import create_engine, text

        if self._admin is None:
            self._admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        name = f"{DATABASE_PREFIX}{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self.base.rsplit("/", 1)[0] + "/" + name

    def drop(self, url: str) -> None:
        from sqlalchemy import text

        name = url.rsplit("/", 1)[1]
        assert name.startswith(DATABASE_PREFIX) and self._admin is not None
        with self._admin.connect() as connection:  # FORCE: a pool or a killed scan may hold connections
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._admin is not None:
            self._admin.dispose()


@pytest.fixture(scope="session")
def _postgres() -> Iterator[_Postgres]:
    server = _Postgres(POSTGRES_BASE_URL)
    yield server
    server.close()


def _unreachable(exc: Exception) -> None:
    message = f"PostgreSQL not reachable at {POSTGRES_BASE_URL}: {exc.__class__.__name__}: {exc}"
    if ON_POSTGRES:  # the PostgreSQL pass without its server is a failure, never a pass of skips
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def new_database_url(request: pytest.FixtureRequest, tmp_path: Path, _postgres: _Postgres) -> Iterator[Callable[[], str]]:
    """Call it for a fresh, empty database: an SQLite file in ``tmp_path``, or a PostgreSQL
    database on the PostgreSQL pass (and for ``postgres_only`` tests). Every one it made is
    dropped when the test ends."""
    on_postgres = (ON_POSTGRES and request.node.get_closest_marker("sqlite_only") is None) or (
        request.node.get_closest_marker("postgres_only") is not None
    )
    made: list[str] = []

    def new() -> str:
        if not on_postgres:
            url = f"sqlite:///{tmp_path}/trygg-test-{len(made)}.db"
        else:
            try:
                url = _postgres.create()
            except Exception as exc:  # noqa: BLE001 - any connection failure means: no server here
                _unreachable(exc)
        made.append(url)
        return url

    yield new
    for url in made:
        if url.startswith("postgresql"):
            _postgres.drop(url)


@pytest.fixture
def database_url(new_database_url: Callable[[], str]) -> str:
    """The test's database (see the module docstring): SQLite, or PostgreSQL on that pass."""
    return new_database_url()


def _sqlite_files(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        try:
            if path.is_file() and path.stat().st_size >= len(_SQLITE_MAGIC):
                with path.open("rb") as handle:
                    if handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC:
                        found.append(path)
        except OSError:
            continue
    return found


@pytest.fixture(autouse=True)
def _no_sqlite_on_the_postgres_pass(request: pytest.FixtureRequest) -> Iterator[None]:
    """On the PostgreSQL pass: a test that wrote an SQLite database anyway fails, naming it."""
    default = Path.cwd() / "trygg.db"
    existed = default.exists()
    yield
    if not ON_POSTGRES or request.node.get_closest_marker("sqlite_only") is not None:
        return
    stray = [] if existed or not default.exists() else [default]
    tmp_path = request.node.funcargs.get("tmp_path") if hasattr(request.node, "funcargs") else None
    if isinstance(tmp_path, Path) and tmp_path.is_dir():
        stray += _sqlite_files(tmp_path)
    if stray:
        pytest.fail(
            "on the PostgreSQL pass this test wrote SQLite databases "
            f"({', '.join(str(p) for p in stray)}): take the database_url fixture (tests/conftest.py), "
            "or mark it sqlite_only with a reason",
            pytrace=False,
        )
