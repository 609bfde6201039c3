"""The wallboard's hub: one snapshot about every second, pushed to every open page.

While at least one client (a page's WebSocket) is connected, ONE background task owned by
the hub takes a snapshot every ``interval`` seconds and hands it to every client. Each
client's send runs on its own (a short task the hub owns) with ``send_timeout`` seconds: a
client that is slower than that, or gone, is dropped (its connection aborted), and neither
the refresh nor the other clients ever wait for it. A client still busy with an older
snapshot skips the newer ones until it is done. When the last client leaves, the task
stops, so an engine nobody watches reads nothing.

A snapshot that cannot be taken (the database is away) is logged and sent as
``{"error": "..."}`` instead, so the pages can say their figures are not current.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from ground.tasks import cancel_and_wait

log = logging.getLogger(__name__)

SnapshotTaker = Callable[[], Awaitable[dict[str, Any]]]


class Client(Protocol):
    """One connected page, as the hub sees it (a WebSocket in the engine)."""

    async def send_str(self, data: str) -> None: ...

    async def close(self) -> None: ...

    def abort(self) -> None:
        """Drop the connection now, without a closing handshake."""


class WallboardHub:
    def __init__(
        self,
        take: SnapshotTaker,
        *,
        interval: float = 1.0,
        send_timeout: float = 2.0,
        take_timeout: float = 5.0,
        close_timeout: float = 2.0,
    ) -> None:
        self._take = take
        self.interval = interval
        self.send_timeout = send_timeout
        self.take_timeout = take_timeout
        self.close_timeout = close_timeout
        self._clients: set[Client] = set()
        self._sending: dict[Client, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._latest: str | None = None
        self._failing = False
        self.dropped = 0

    @property
    def clients(self) -> int:
        return len(self._clients)

    @property
    def running(self) -> bool:
        """Is the refresh task alive?"""
        return self._task is not None and not self._task.done()

    async def snapshot(self) -> dict[str, Any]:
        """A snapshot taken now (for the JSON route), within ``take_timeout``."""
        return await asyncio.wait_for(self._take(), self.take_timeout)

    # -- clients --------------------------------------------------------------------------
    async def join(self, client: Client) -> None:
        """Start pushing to ``client``; it gets the latest snapshot at once, if there is one."""
        self._clients.add(client)
        if not self.running:
            self._latest = None
            self._task = asyncio.create_task(self._run(), name="wallboard-refresh")
        elif self._latest is not None:
            self._hand(client, self._latest)

    async def leave(self, client: Client) -> None:
        """Stop pushing to ``client``; the last one to leave stops the refresh task."""
        self._clients.discard(client)
        await cancel_and_wait(self._sending.pop(client, None))
        if not self._clients:
            task, self._task = self._task, None
            await cancel_and_wait(task)

    @contextlib.asynccontextmanager
    async def connected(self, client: Client) -> AsyncIterator[None]:
        """``async with hub.connected(ws):`` the client gets snapshots inside the block."""
        await self.join(client)
        try:
            yield
        finally:
            await self.leave(client)

    async def close(self) -> None:
        """Stop the task and close every client (the engine is stopping)."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        for sending in list(self._sending.values()):
            await cancel_and_wait(sending)
        self._sending.clear()
        clients, self._clients = list(self._clients), set()
        await asyncio.gather(*(self._close(client) for client in clients))

    async def on_shutdown(self, _app: object) -> None:
        """For ``web.Application.on_shutdown``: open pages must not hold the HTTP side up."""
        await self.close()

    # -- the refresh task -------------------------------------------------------------------
    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._clients:
            started = loop.time()
            message = await self._message()
            self._latest = message
            self._push(message)
            # Ends after this pause if the last client was dropped meanwhile.
            await asyncio.sleep(max(0.0, self.interval - (loop.time() - started)))

    async def _message(self) -> str:
        try:
            snapshot = await asyncio.wait_for(self._take(), self.take_timeout)
            message = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"))
        except Exception as exc:
            if not self._failing:  # once per outage, not every second
                log.warning("wallboard snapshot failed: %s: %s", type(exc).__name__, exc)
            self._failing = True
            return json.dumps({"error": f"the figures cannot be read now ({type(exc).__name__})"})
        if self._failing:
            log.info("wallboard snapshots are back")
        self._failing = False
        return message

    def _push(self, message: str) -> None:
        for client in list(self._clients):
            self._hand(client, message)

    def _hand(self, client: Client, message: str) -> None:
        """Start sending ``message`` to ``client``, unless it is still busy with one."""
        busy = self._sending.get(client)
        if busy is not None and not busy.done():
            return
        task = asyncio.create_task(self._deliver(client, message), name="wallboard-send")
        self._sending[client] = task
        task.add_done_callback(lambda done: self._sent(client, done))

    def _sent(self, client: Client, task: asyncio.Task[None]) -> None:
        if self._sending.get(client) is task:
            del self._sending[client]

    async def _deliver(self, client: Client, message: str) -> None:
        if not await self._send(client, message):
            self._drop(client)

    async def _send(self, client: Client, message: str) -> bool:
        try:
            await asyncio.wait_for(client.send_str(message), self.send_timeout)
        except TimeoutError:
            log.info("wallboard client too slow (no send in %.1f s): dropped", self.send_timeout)
            return False
        except Exception as exc:  # gone: reset, closed, ...
            log.debug("wallboard client gone: %s: %s", type(exc).__name__, exc)
            return False
        return True

    def _drop(self, client: Client) -> None:
        if client in self._clients:
            self._clients.discard(client)
            self.dropped += 1
        with contextlib.suppress(Exception):
            client.abort()

    async def _close(self, client: Client) -> None:
        try:
            await asyncio.wait_for(client.close(), self.close_timeout)
        except Exception:
            with contextlib.suppress(Exception):
                client.abort()
