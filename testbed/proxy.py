"""A TCP proxy in front of a server (PostgreSQL) that a test can cut and restore.

While it is up, every client connection is piped to the target. :meth:`CuttableProxy.cut`
aborts every piped connection at once (the client sees a reset, as when the database
server dies) and refuses new ones until :meth:`CuttableProxy.restore`. The proxy runs on
the event loop that started it; :class:`LoopThread` gives it a loop of its own in a
worker thread, so that a test's blocking calls never stall the traffic it carries.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

CHUNK = 65536
CONNECT_TIMEOUT = 5.0


class CuttableProxy:
    """Pipes 127.0.0.1:``port`` to ``target_host:target_port``; ``cut()`` and ``restore()``."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.up = True
        self.accepted = 0  # connections piped through
        self.refused = 0  # connections refused while cut
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self.server is not None, "the proxy is not started"
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            self.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.target), CONNECT_TIMEOUT
            )
        except OSError:  # the target itself is away: the client sees the connection close
            writer.transport.abort()
            return
        if not self.up:  # cut while connecting
            up_writer.transport.abort()
            writer.transport.abort()
            return
        self.accepted += 1
        self.writers |= {writer, up_writer}
        pipes = [
            asyncio.ensure_future(self._pipe(reader, up_writer)),
            asyncio.ensure_future(self._pipe(up_reader, writer)),
        ]
        self._tasks.update(pipes)
        for pipe in pipes:
            pipe.add_done_callback(self._tasks.discard)
        await asyncio.gather(*pipes, return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass  # a side went away (or the proxy was cut): the other side is closed below
        finally:
            writer.close()
            self.writers.discard(writer)

    def cut(self) -> None:
        """Reset every piped connection and refuse new ones."""
        self.up = False
        for writer in list(self.writers):
            writer.transport.abort()

    def restore(self) -> None:
        """Pipe new connections again."""
        self.up = True

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class LoopThread:
    """An event loop of its own in a daemon thread: ``run(coro)`` and ``call(fn)`` from any
    thread, with a timeout. Use as a context manager; the loop stops at the end."""

    def __init__(self, name: str = "test-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def __enter__(self) -> LoopThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``work`` on the thread's loop and wait for its result."""
        future = asyncio.run_coroutine_threadsafe(work, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def call(self, function: Callable[[], T], timeout: float = 10.0) -> T:
        """Run a plain function on the thread's loop (where the objects it touches live)."""

        async def go() -> T:
            return function()

        return self.run(go(), timeout)


@contextlib.contextmanager
def proxy_in_thread(
    target_host: str, target_port: int
) -> Iterator[tuple[CuttableProxy, LoopThread]]:
    """A started :class:`CuttableProxy` on a :class:`LoopThread`; closed after the block.
    Cut and restore it with ``thread.call(proxy.cut)`` / ``thread.call(proxy.restore)``."""
    with LoopThread("db-proxy") as thread:
        proxy = CuttableProxy(target_host, target_port)
        thread.run(proxy.start())
        try:
            yield proxy, thread
        finally:
            thread.run(proxy.close())


__all__ = ["CuttableProxy", "LoopThread", "proxy_in_thread"]
