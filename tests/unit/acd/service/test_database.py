"""The ACD's database on SQLite: whole transactions in the ACD's own thread, committed or
rolled back as one, and usable again after it was closed."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.service.database import AcdDatabase


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[AcdDatabase]:
    db = AcdDatabase(f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}")
    async with db.transaction() as conn:
        await conn.execute(text("CREATE TABLE seen (n INTEGER)"))
    yield db
    await db.close()


async def _rows(db: AcdDatabase) -> list[int]:
    async with db.transaction() as conn:
        return [
            int(n) for n in (await conn.execute(text("SELECT n FROM seen ORDER BY n"))).scalars()
        ]


async def test_a_transaction_runs_whole_in_the_acds_thread(database: AcdDatabase) -> None:
    threads: list[str] = []

    async def work(conn: AsyncConnection) -> int:
        threads.append(threading.current_thread().name)
        await conn.execute(text("INSERT INTO seen VALUES (1)"))
        threads.append(threading.current_thread().name)
        return 7

    assert database.threaded and not database.postgres
    assert await database.run_transaction(work, wake=True) == 7  # nobody to wake: no NOTIFY
    assert await database.run_transaction(work) == 7
    assert len(set(threads)) == 1 and threads[0].startswith("acd-sqlite")
    assert threads[0] != threading.current_thread().name
    assert await _rows(database) == [1, 1]


async def test_a_transaction_that_fails_leaves_nothing(database: AcdDatabase) -> None:
    async def work(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO seen VALUES (2)"))
        raise LookupError("refused")

    with pytest.raises(LookupError, match="refused"):
        await database.run_transaction(work)
    assert await _rows(database) == []


async def test_after_close_transactions_open_new_connections(database: AcdDatabase) -> None:
    async def work(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO seen VALUES (3)"))

    database.start()
    await database.run_transaction(work)
    await database.close()
    await database.run_transaction(work)  # a new thread and connection
    assert await _rows(database) == [3, 3]
