"""A scratch PostgreSQL database for tests that run engine processes on PostgreSQL.

The database is created through the admin DSN (``IVR_TEST_POSTGRES_DSN``, default: the
development role that ``scripts/ensure-postgres.sh`` sets up, as the database tests use)
under a unique name, and dropped (``WITH (FORCE)``: engines may still hold connections)
when the block ends. The engines migrate it themselves at start.

Synchronous: each admin statement runs on its own event loop in a worker thread, so async
tests can use it without touching their own loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import uuid
from collections.abc import Iterator

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import make_url

ADMIN_DSN = os.environ.get(
    "IVR_TEST_POSTGRES_DSN", "postgresql://ivr:ivr-dev@127.0.0.1:5432/ivr_test"
)


class PostgresUnavailable(Exception):
    """The PostgreSQL server could not be reached, or refused to create the database."""


async def admin_execute(sql: str) -> None:
    """Run one statement as the admin role (CREATE / DROP DATABASE ...)."""
    conn = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _admin(sql: str) -> None:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, admin_execute(sql)).result(timeout=60)


@contextlib.contextmanager
def scratch_database(prefix: str = "ivr_test") -> Iterator[str]:
    """A new, empty database for the block; yields its SQLAlchemy URL (asyncpg driver).

    Raises :class:`PostgresUnavailable` when it cannot be created.
    """
    admin = make_url(ADMIN_DSN)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise PostgresUnavailable(
            f"PostgreSQL at {admin.host}:{admin.port}: {type(exc).__name__}: {exc}"
        ) from exc
    login = admin.username or "postgres"
    if admin.password:
        login += f":{admin.password}"
    url = f"postgresql+asyncpg://{login}@{admin.host or '127.0.0.1'}:{admin.port or 5432}/{name}"
    try:
        yield url
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


__all__ = ["ADMIN_DSN", "PostgresUnavailable", "scratch_database"]
