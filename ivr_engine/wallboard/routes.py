"""The wallboard's HTTP routes.

- ``GET /wallboard``: the page (open it as ``/wallboard?token=...``);
- ``GET /wallboard/static/...``: its script and style sheet;
- ``GET /wallboard/ws``: the WebSocket the page listens on (``?token=...``, since browsers
  cannot set headers on a WebSocket); every message is one snapshot as JSON, or
  ``{"error": "..."}`` while the figures cannot be read;
- ``GET /api/v1/wallboard``: the same snapshot once, as JSON.

The page and its files are public (they hold no figures). The WebSocket and the JSON route
first await ``authorize(request)``, which raises an aiohttp HTTP error (401, 403, ...) to
turn the request away; the token is the request's ``Authorization: Bearer`` header or, for
the WebSocket, its ``token`` query parameter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import WSCloseCode, web

from ivr_engine.wallboard.hub import WallboardHub

log = logging.getLogger(__name__)

Authorize = Callable[[web.Request], Awaitable[object]]
"""Admits a request (returns, with anything) or turns it away (raises an HTTP error)."""

STATIC = Path(__file__).resolve().parent / "static"
HEARTBEAT_S = 20.0  # a page that stops answering pings is closed after about half of this
MAX_MESSAGE = 4096  # the page sends nothing; anything large is not the page


class PageSocket:
    """A page's WebSocket, as a client of the hub."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None):
        self.ws = ws
        self.transport = transport

    async def send_str(self, data: str) -> None:
        await self.ws.send_str(data)

    async def close(self) -> None:
        await self.ws.close(code=WSCloseCode.GOING_AWAY, message=b"the engine is stopping")

    def abort(self) -> None:
        if isinstance(self.transport, asyncio.WriteTransport):
            self.transport.abort()


def wallboard_routes(hub: WallboardHub, authorize: Authorize) -> list[web.AbstractRouteDef]:
    async def page(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "wallboard.html", headers={"Cache-Control": "no-cache"})

    async def socket(request: web.Request) -> web.WebSocketResponse:
        await authorize(request)
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE)
        await ws.prepare(request)
        async with hub.connected(PageSocket(ws, request.transport)):
            async for _message in ws:  # nothing to read: this waits for the page to go
                pass
        return ws

    async def snapshot(request: web.Request) -> web.Response:
        await authorize(request)
        try:
            body = await hub.snapshot()
        except Exception as exc:
            log.warning("wallboard snapshot failed: %s: %s", type(exc).__name__, exc)
            raise web.HTTPServiceUnavailable(
                text='{"error": "the figures cannot be read now"}',
                content_type="application/json",
            ) from exc
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    return [
        web.get("/wallboard", page),
        web.static("/wallboard/static", STATIC),
        web.get("/wallboard/ws", socket),
        web.get("/api/v1/wallboard", snapshot),
    ]
