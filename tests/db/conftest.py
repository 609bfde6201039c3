"""Database URLs for the journal tests: a real SQLite file and a real PostgreSQL database.

PostgreSQL: one uniquely named database per test session, created through the admin DSN
(``IVR_TEST_POSTGRES_DSN``, default: the development role that ``scripts/ensure-postgres.sh``
sets up) and
dropped at the end; the journal tables are dropped before each test. If the server is
unreachable the postgres tests fail when ``CI`` is set and are skipped otherwise.
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

ADMIN_DSN = os.environ.get(
    "IVR_TEST_POSTGRES_DSN", "postgresql://ivr:ivr-dev@127.0.0.1:5432/ivr_test"
)

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


async def _admin_execute(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


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
        run_isolated(_admin_execute(f'CREATE DATABASE "{database.name}"'))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL not reachable at {ADMIN_DSN}: {type(exc).__name__}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the postgres tests must run)")
        pytest.skip(reason)
    yield database
    run_isolated(_admin_execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)'))


async def _drop_journal_tables(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute("DROP TABLE IF EXISTS call_steps, calls")
    finally:
        await conn.close()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty journal database URL (the tables do not exist yet)."""
    if request.param == "sqlite":
        # A directory that does not exist yet: the store must create it.
        return sqlite_url(tmp_path / "var" / "journal.db")
    database: PgDatabase = request.getfixturevalue("fresh_postgres")
    return database.url()


@pytest.fixture
def fresh_postgres(postgres_database: PgDatabase) -> PgDatabase:
    """The session's PostgreSQL database with the journal tables dropped."""
    run_isolated(_drop_journal_tables(postgres_database.dsn))
    return postgres_database


# -- subscriber data (ivr_engine.data) ---------------------------------------------------------

DATA_TABLES = ("subscribers", "blacklist", "topup_cards", "counters")


async def _drop_data_tables(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {', '.join(DATA_TABLES)}")
    finally:
        await conn.close()


@pytest.fixture
def fresh_data_postgres(postgres_database: PgDatabase) -> PgDatabase:
    """The session's PostgreSQL database with the subscriber data tables dropped."""
    run_isolated(_drop_data_tables(postgres_database.dsn))
    return postgres_database


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def data_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL without the subscriber data tables."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "var" / "data.db")
    database: PgDatabase = request.getfixturevalue("fresh_data_postgres")
    return database.url()
