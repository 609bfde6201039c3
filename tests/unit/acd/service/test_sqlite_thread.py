"""Running the ACD's SQLite work in one thread: the driver and the log checkpointer."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from acd.service.sqlite_thread import SyncConnection, WalCheckpointer, drive, no_autocheckpoint
from ground.database import make_sqlite_thread_engine


async def _answer(conn: SyncConnection) -> int:
    result = await conn.execute(text("SELECT 41 + 1"))
    return int(result.scalar_one())


def test_a_coroutine_that_only_uses_the_connection_runs_to_its_end(tmp_path: Path) -> None:
    engine = make_sqlite_thread_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", command_timeout=5
    )
    try:
        with engine.begin() as conn:
            assert drive(_answer(SyncConnection(conn))) == 42
    finally:
        engine.dispose()


def test_a_coroutine_that_really_waits_is_refused() -> None:
    async def sleeps() -> None:
        await asyncio.sleep(0)  # gives the event loop a turn: there is none here

    with pytest.raises(RuntimeError, match="waited"):
        drive(sleeps())


def rows_in_the_file_alone(db: Path, copy: Path) -> int:
    """Rows of t found in the database file without its write-ahead log."""
    shutil.copyfile(db, copy)
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])
    finally:
        conn.close()


async def test_the_log_reaches_the_file_at_a_checkpoint_not_at_commit(tmp_path: Path) -> None:
    db = tmp_path / "engine.db"
    setup = sqlite3.connect(db, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    setup.close()
    writer = sqlite3.connect(db, isolation_level=None)
    no_autocheckpoint(writer, None)
    for n in range(2000):  # well past the 1000 pages of an automatic checkpoint
        writer.execute("INSERT INTO t VALUES (?)", (n,))
    assert rows_in_the_file_alone(db, tmp_path / "before.db") == 0  # all still in the log
    checkpointer = WalCheckpointer(db)
    try:
        await checkpointer.checkpoint()
    finally:
        await checkpointer.close()
        writer.close()
    assert checkpointer.checkpoints == 1
    assert rows_in_the_file_alone(db, tmp_path / "after.db") == 2000
