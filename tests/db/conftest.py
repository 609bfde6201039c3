"""Database URLs for the database tests: a real SQLite file and a real PostgreSQL database.

PostgreSQL: one uniquely named database per test session, created through the admin DSN
(``IVR_TEST_POSTGRES_DSN``, default: the development role that ``scripts/ensure-postgres.sh``
sets up) and dropped at the end; every table (``alembic_version`` too) is dropped before
each test. If the server is unreachable the postgres tests fail when ``CI`` is set and are
skipped otherwise.

The schema comes from the migrations, as in the engine: ``db_url`` and ``data_db_url``
are migrated to head (``ivr_engine.db_schema.upgrade``); ``empty_db_url`` is not.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import make_url

from ivr_engine.db_schema import upgrade
from testbed.postgres import ADMIN_DSN, admin_execute

T = TypeVar("T")


def run_isolated(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on its own loop in its own thread (safe beside pytest-asyncio's loop)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: T = box["result"]
    return result


@dataclass(frozen=True)
class PgDatabase:
    name: str
    host: str
    port: int
    user: str
    password: str

    @property
    def login(self) -> str:
        return f"{self.user}:{self.password}" if self.password else self.user

    def url(self, *, port: int | None = None) -> str:
        """SQLAlchemy URL of the test database (optionally through another port)."""
        return f"postgresql+asyncpg://{self.login}@{self.host}:{port or self.port}/{self.name}"

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.login}@{self.host}:{self.port}/{self.name}"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PgDatabase]:
    admin = make_url(ADMIN_DSN)
    database = PgDatabase(
        name=f"ivr_journal_test_{uuid.uuid4().hex[:12]}",
        host=admin.host or "127.0.0.1",
        port=admin.port or 5432,
        user=admin.username or "postgres",
        password=admin.password or "",
    )
    try:
        run_isolated(admin_execute(f'CREATE DATABASE "{database.name}"'))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL not reachable at {ADMIN_DSN}: {type(exc).__name__}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the postgres tests must run)")
        pytest.skip(reason)
    yield database
    run_isolated(admin_execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)'))


async def _drop_all_tables(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        names = await conn.fetch(
            "SELECT quote_ident(tablename) AS name FROM pg_tables"
            " WHERE schemaname = current_schema()"
        )
        if names:
            await conn.execute(
                f"DROP TABLE IF EXISTS {', '.join(n['name'] for n in names)} CASCADE"
            )
    finally:
        await conn.close()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def empty_postgres(postgres_database: PgDatabase) -> PgDatabase:
    """The session's PostgreSQL database with no tables at all."""
    run_isolated(_drop_all_tables(postgres_database.dsn))
    return postgres_database


@pytest.fixture
def fresh_postgres(empty_postgres: PgDatabase) -> PgDatabase:
    """The session's PostgreSQL database, emptied and migrated to head."""
    run_isolated(upgrade(empty_postgres.url()))
    return empty_postgres


_BOTH = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=_BOTH)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with no tables; SQLite: the file and its directory do not exist yet."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "var" / "engine.db")
    database: PgDatabase = request.getfixturevalue("empty_postgres")
    return database.url()


@pytest.fixture(params=_BOTH)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL migrated to head (journal, subscriber data and ACD tables)."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "var" / "journal.db")
        run_isolated(upgrade(url))
        return url
    database: PgDatabase = request.getfixturevalue("fresh_postgres")
    return database.url()


@pytest.fixture(params=_BOTH)
def data_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL migrated to head, for the subscriber data tests."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "var" / "data.db")
        run_isolated(upgrade(url))
        return url
    database: PgDatabase = request.getfixturevalue("fresh_postgres")
    return database.url()
