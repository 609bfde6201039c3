"""How the engine opens a database through SQLAlchemy async: SQLite (the embedded default)
or PostgreSQL through asyncpg, with the same settings for every store that uses one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

SUPPORTED = ("sqlite", "postgresql")

SCHEMA_LOCK = 0x49_56_52_53  # "IVRS": the advisory lock of schema and configuration changes


def sqlite_file(url: str | URL) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def make_engine(
    url: str | URL,
    *,
    connect_timeout: float,
    command_timeout: float,
    sqlite_immediate: bool = False,
) -> AsyncEngine:
    """An engine that keeps query parameters (caller numbers) out of error messages, drops
    PostgreSQL connections that died during an outage, and bounds every wait.

    ``sqlite_immediate``: SQLite transactions take the write lock when they begin (waiting
    for it up to ``command_timeout``), so a transaction that reads and then writes never
    fails on a snapshot another writer made stale meanwhile."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    options: dict[str, Any] = {"hide_parameters": True}
    if backend == "sqlite":
        # A locked SQLite database blocks a worker thread that cancelling cannot stop:
        # make SQLite's own busy wait give up in time instead.
        options["connect_args"] = {"timeout": command_timeout}
    else:
        options["pool_pre_ping"] = True
        if parsed.get_driver_name() == "asyncpg":
            options["connect_args"] = {
                "timeout": connect_timeout,
                "command_timeout": command_timeout,
            }
    engine = create_async_engine(parsed, **options)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if sqlite_immediate:
            _immediate_transactions(engine, foreign_keys=True)
    return engine


def make_sqlite_thread_engine(url: str | URL, *, command_timeout: float) -> Engine:
    """A synchronous engine (the plain ``sqlite3`` driver) on the SQLite file of ``url``,
    with the same settings as ``make_engine(..., sqlite_immediate=True)``, for work run
    whole in one worker thread: one connection, usable from whichever thread runs it."""
    parsed = make_url(url).set(drivername="sqlite+pysqlite")
    engine = create_engine(
        parsed,
        hide_parameters=True,
        pool_size=1,
        max_overflow=0,
        connect_args={"timeout": command_timeout, "check_same_thread": False},
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    _immediate_transactions(engine, foreign_keys=True)
    return engine


@asynccontextmanager
async def exclusive_transaction(
    url: str | URL, *, timeout: float, foreign_keys: bool = True
) -> AsyncIterator[AsyncConnection]:
    """One transaction that no other ``exclusive_transaction`` on the database runs beside.

    Committed when the block ends, rolled back if it raises. PostgreSQL: takes the advisory
    lock ``SCHEMA_LOCK`` for the transaction; SQLite: ``BEGIN IMMEDIATE`` (the write lock,
    so DDL is transactional too). Either waits up to ``timeout`` seconds for the other
    holder. ``foreign_keys=False`` stops SQLite enforcing them (for table rebuilds).
    """
    engine = make_engine(url, connect_timeout=min(timeout, 10.0), command_timeout=timeout)
    if engine.dialect.name == "sqlite":
        _immediate_transactions(engine, foreign_keys=foreign_keys)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            yield conn
    finally:
        await engine.dispose()


def _immediate_transactions(engine: AsyncEngine | Engine, *, foreign_keys: bool) -> None:
    # SQLAlchemy's recipe: the driver must not begin (or skip DDL) by itself; we do.
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        if not foreign_keys:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA foreign_keys=OFF")  # only takes effect outside a transaction
            finally:
                cursor.close()

    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    event.listen(sync, "connect", on_connect)
    event.listen(sync, "begin", on_begin)


class ClosesOnExit:
    """``async with`` support for anything with an ``async close()``."""

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
