"""The ACD's way into the shared SQL store: its transactions, and what SQLite needs besides.

Every ACD transaction goes through :class:`AcdDatabase`. ``transaction`` is one
transaction on the async engine; ``wake=True`` marks a transaction that makes a routing
decision possible, so on PostgreSQL it ends with ``NOTIFY`` and the other instances run a
pass when it commits (:mod:`acd.service.wakeup`).

On SQLite the statements of an async connection each cost several hand-overs to the
driver's thread, so the hot transactions (``run_transaction``, the dispatcher's pass) run
whole on a synchronous connection in one worker thread of the ACD's own
(:mod:`acd.service.sqlite_thread`). A SQLite file also gets a :class:`WalCheckpointer`,
since the ACD's connections leave checkpoints to it. PostgreSQL needs neither.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.service.sqlite_thread import SyncConnection, WalCheckpointer, drive, no_autocheckpoint
from acd.service.wakeup import CHANNEL
from ground.database import make_engine, make_sqlite_thread_engine, sqlite_file
from ground.tasks import cancel_and_wait

__all__ = ["AcdDatabase"]

T = TypeVar("T")


class AcdDatabase:
    """The engines on one database URL; ``start`` and ``close`` bracket their use."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self._engine: AsyncEngine = make_engine(
            url, connect_timeout=timeout, command_timeout=timeout, sqlite_immediate=True
        )
        self.postgres = self._engine.dialect.name == "postgresql"
        self._sqlite_engine: Engine | None = None
        self._thread: ThreadPoolExecutor | None = None  # made when first needed
        self._checkpointer: WalCheckpointer | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None
        if self._engine.dialect.name == "sqlite":
            self._sqlite_engine = make_sqlite_thread_engine(url, command_timeout=timeout)
            path = sqlite_file(url)
            if path is not None:  # a file (in memory, there is no log to move)
                sa_event.listen(self._sqlite_engine, "connect", no_autocheckpoint)
                self._checkpointer = WalCheckpointer(path, timeout=timeout)

    def start(self) -> None:
        """Start checkpointing (a SQLite file only); while it runs, again is harmless."""
        if self._checkpointer is not None and self._checkpoint_task is None:
            self._checkpoint_task = asyncio.create_task(
                self._checkpointer.run(), name="acd-wal-checkpoint"
            )

    async def close(self) -> None:
        """Stop checkpointing and close the connections and the worker thread. A
        transaction after this opens new connections (and a new thread)."""
        checkpoint, self._checkpoint_task = self._checkpoint_task, None
        await cancel_and_wait(checkpoint)
        if checkpoint is not None and self._checkpointer is not None:
            await self._checkpointer.close()
        await self._engine.dispose()
        thread, self._thread = self._thread, None
        if thread is not None and self._sqlite_engine is not None:
            # After the pass running there, if any (the dispatcher no longer waits for it).
            await asyncio.get_running_loop().run_in_executor(thread, self._sqlite_engine.dispose)
            thread.shutdown(wait=False)

    @property
    def threaded(self) -> bool:
        """Transactions run whole in the worker thread (SQLite)."""
        return self._sqlite_engine is not None

    @property
    def sqlite_thread(self) -> ThreadPoolExecutor | None:
        """The thread SQLite passes run in (None on PostgreSQL)."""
        if self._sqlite_engine is not None and self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="acd-sqlite")
        return self._thread

    @contextlib.asynccontextmanager
    async def transaction(self, *, wake: bool = False) -> AsyncIterator[AsyncConnection]:
        """One transaction; ``wake``: it changes what can be routed, so the other instances
        are woken when it commits."""
        async with self._engine.begin() as conn:
            yield conn
            if wake:
                await self.notify(conn)

    async def run_transaction(
        self, work: Callable[[AsyncConnection], Coroutine[Any, Any, T]], *, wake: bool = False
    ) -> T:
        """``work`` in one transaction (see ``transaction``). On SQLite it runs whole in
        the worker thread, one hand-over for the lot, so ``work`` may await the store
        functions only."""
        if not self.threaded:
            async with self.transaction(wake=wake) as conn:
                return await work(conn)

        def in_thread() -> T:
            with self.threaded_transaction() as conn:
                return drive(work(conn))

        return await self.in_thread(in_thread)

    async def in_thread(self, job: Callable[[], T]) -> T:
        """``job`` in the worker thread (SQLite only), the event loop free meanwhile."""
        thread = self.sqlite_thread
        assert thread is not None, "only SQLite has a worker thread"
        return await asyncio.get_running_loop().run_in_executor(thread, job)

    @contextlib.contextmanager
    def threaded_transaction(self) -> Iterator[AsyncConnection]:
        """One transaction on the worker thread's connection, for store functions driven
        there (:func:`acd.service.sqlite_thread.drive`); in that thread only."""
        assert self._sqlite_engine is not None, "only SQLite has a worker thread"
        with self._sqlite_engine.begin() as conn:
            yield SyncConnection(conn).as_async()

    async def notify(self, conn: AsyncConnection) -> None:
        """Wake the other instances when this transaction commits (PostgreSQL)."""
        if self.postgres:
            await conn.execute(text(f"NOTIFY {CHANNEL}"))
