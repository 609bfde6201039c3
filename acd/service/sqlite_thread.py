"""Run a whole SQLite transaction of the ACD in one worker thread, in one hop.

The ACD's code talks to its database through :class:`~sqlalchemy.ext.asyncio.AsyncConnection`.
On SQLite every statement of that costs three or four hand-overs to the driver's thread
and back (aiosqlite), which dominates a matching pass. A pass can instead run on a plain
synchronous connection in the ACD's own worker thread: :class:`SyncConnection` offers the
few coroutine methods the store functions use, each of which returns at once, and
:func:`drive` runs such a coroutine to its end without an event loop. The event loop
waits for the thread without blocking (``loop.run_in_executor``).

Only code whose every ``await`` reaches :class:`SyncConnection` can be driven; anything
else (a sleep, a network call) is refused with :class:`RuntimeError`.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Connection, CursorResult, Dialect, Result
from sqlalchemy.engine.result import ScalarResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

__all__ = ["SyncConnection", "WalCheckpointer", "drive", "no_autocheckpoint"]

T = TypeVar("T")
log = logging.getLogger(__name__)


class SyncConnection:
    """The part of ``AsyncConnection`` the ACD's store functions use, on a sync one."""

    def __init__(self, conn: Connection) -> None:
        self.sync_connection = conn

    @property
    def dialect(self) -> Dialect:
        return self.sync_connection.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        return self.sync_connection.execute(statement, parameters)

    async def scalars(self, statement: Executable, parameters: Any = None) -> ScalarResult[Any]:
        result: Result[Any] = self.sync_connection.execute(statement, parameters)
        return result.scalars()

    def as_async(self) -> AsyncConnection:
        """This adapter where the store functions expect an ``AsyncConnection``."""
        return cast(AsyncConnection, self)


def drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to its end in this thread; it must never really suspend."""
    try:
        suspended = coro.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coro.close()
    raise RuntimeError(f"a driven coroutine waited for {suspended!r}")


class WalCheckpointer:
    """Moves SQLite's write-ahead log into the database file every ``interval`` seconds,
    in a thread and connection of its own (``PRAGMA wal_checkpoint(PASSIVE)``: it waits
    for nobody and nobody waits for it).

    The ACD's own connection does not checkpoint (``wal_autocheckpoint=0``): otherwise every
    thousand pages or so one of its commits would stop to copy the log and flush the file,
    and the caller or agent waiting on that decision would wait milliseconds longer."""

    def __init__(self, path: Path, interval: float = 1.0, timeout: float = 5.0) -> None:
        self.path = path
        self.interval = interval
        self.timeout = timeout
        self.checkpoints = 0
        self._conn: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="acd-wal")

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.checkpoint()
            except sqlite3.Error as exc:  # the next round tries again
                log.warning("SQLite checkpoint failed: %s", exc)

    async def checkpoint(self) -> None:
        """One checkpoint now, in the checkpointer's thread."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._checkpoint)

    def _checkpoint(self) -> None:
        if self._conn is None:
            self._conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.checkpoints += 1

    async def close(self) -> None:
        def close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._thread, close)
        self._thread.shutdown(wait=False)


def no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    """A connection-pool hook: this connection leaves checkpoints to a WalCheckpointer."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    finally:
        cursor.close()
