"""How the engine opens a database through SQLAlchemy async: SQLite (the embedded default)
or PostgreSQL through asyncpg, with the same settings for every store that uses one."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SUPPORTED = ("sqlite", "postgresql")


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


def make_engine(url: str | URL, *, connect_timeout: float, command_timeout: float) -> AsyncEngine:
    """An engine that keeps query parameters (caller numbers) out of error messages, drops
    PostgreSQL connections that died during an outage, and bounds every wait."""
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
    return engine


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
