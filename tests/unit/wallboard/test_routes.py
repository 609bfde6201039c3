"""The wallboard's routes on a real aiohttp server: the page and its files, the WebSocket
and the JSON snapshot, each behind the ``authorize`` it is given."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ivr_engine.wallboard.hub import WallboardHub
from ivr_engine.wallboard.routes import Authorize, wallboard_routes

WAIT = 5.0
Make = Callable[[Authorize], Awaitable[TestClient[web.Request, web.Application]]]


class Snapshots:
    def __init__(self) -> None:
        self.taken = 0
        self.failing = False

    async def __call__(self) -> dict[str, Any]:
        if self.failing:
            raise OSError("database away")
        self.taken += 1
        return {"n": self.taken, "queues": []}


async def admit(_request: web.Request) -> None:
    return None


async def deny(_request: web.Request) -> None:
    raise web.HTTPForbidden(text="not for you")


async def token_good(request: web.Request) -> None:
    """Admits the token "good", in the Authorization header or (WebSocket) ?token=."""
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ") if header else request.query.get("token", "")
    if token != "good":
        raise web.HTTPUnauthorized(text="bad token")


@pytest.fixture
def snapshots() -> Snapshots:
    return Snapshots()


@pytest.fixture
def hub(snapshots: Snapshots) -> WallboardHub:
    return WallboardHub(snapshots, interval=0.01)


@pytest.fixture
async def make(hub: WallboardHub) -> AsyncIterator[Make]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def build(authorize: Authorize) -> TestClient[web.Request, web.Application]:
        app = web.Application()
        app.add_routes(wallboard_routes(hub, authorize))
        app.on_shutdown.append(hub.on_shutdown)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.close()


async def until(what: str, check: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        if check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not within {WAIT} s")
        await asyncio.sleep(0.01)


async def test_the_page_and_its_files_are_served_to_anyone(make: Make) -> None:
    client = await make(deny)
    page = await client.get("/wallboard")
    assert page.status == 200 and page.content_type == "text/html"
    html = await page.text()
    assert "/wallboard/static/wallboard.js" in html and "/wallboard/static/wallboard.css" in html
    assert 'data-testid="agents-ready"' in html
    script = await client.get("/wallboard/static/wallboard.js")
    assert script.status == 200 and "javascript" in script.content_type
    assert "/wallboard/ws?token=" in await script.text()
    style = await client.get("/wallboard/static/wallboard.css")
    assert style.status == 200 and style.content_type == "text/css"
    missing = await client.get("/wallboard/static/nothing.js")
    assert missing.status == 404


async def test_the_websocket_pushes_snapshots(make: Make, hub: WallboardHub) -> None:
    client = await make(admit)
    ws = await client.ws_connect("/wallboard/ws?token=anything")
    first = await ws.receive_json(timeout=WAIT)
    second = await ws.receive_json(timeout=WAIT)
    assert second["n"] > first["n"] >= 1
    assert hub.clients == 1 and hub.running
    await ws.close()
    await until("task stopped after the page left", lambda: not hub.running)
    assert hub.clients == 0


async def test_a_denied_websocket_is_refused_before_anything_is_read(
    make: Make, hub: WallboardHub, snapshots: Snapshots
) -> None:
    client = await make(deny)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/wallboard/ws?token=anything")
    assert refused.value.status == 403
    assert snapshots.taken == 0 and not hub.running and hub.clients == 0


async def test_the_websocket_token_comes_from_the_query(make: Make) -> None:
    client = await make(token_good)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/wallboard/ws?token=bad")
    assert refused.value.status == 401
    ws = await client.ws_connect("/wallboard/ws?token=good")
    assert "n" in await ws.receive_json(timeout=WAIT)
    await ws.close()


async def test_the_json_snapshot_is_behind_authorize(
    make: Make, snapshots: Snapshots, hub: WallboardHub
) -> None:
    client = await make(token_good)
    refused = await client.get("/api/v1/wallboard", headers={"Authorization": "Bearer bad"})
    assert refused.status == 401 and snapshots.taken == 0
    answered = await client.get("/api/v1/wallboard", headers={"Authorization": "Bearer good"})
    assert answered.status == 200
    assert await answered.json() == {"n": 1, "queues": []}
    assert answered.headers["Cache-Control"] == "no-store"
    assert not hub.running  # a one-off read starts no refresh


async def test_the_json_snapshot_says_when_it_cannot_be_read(
    make: Make, snapshots: Snapshots
) -> None:
    snapshots.failing = True
    client = await make(admit)
    response = await client.get("/api/v1/wallboard")
    assert response.status == 503
    assert "error" in await response.json()


async def test_shutdown_closes_the_open_pages(make: Make, hub: WallboardHub) -> None:
    client = await make(admit)
    ws = await client.ws_connect("/wallboard/ws")
    await ws.receive_json(timeout=WAIT)
    shutdown = asyncio.create_task(hub.on_shutdown(None))  # the page reads meanwhile
    message = await ws.receive(timeout=WAIT)
    while message.type is aiohttp.WSMsgType.TEXT:  # snapshots already on their way
        message = await ws.receive(timeout=WAIT)
    await asyncio.wait_for(shutdown, WAIT)
    assert message.type is aiohttp.WSMsgType.CLOSE
    assert ws.close_code == aiohttp.WSCloseCode.GOING_AWAY
    assert not hub.running and hub.clients == 0
