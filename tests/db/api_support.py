"""The operations API on a real database for tests: an aiohttp test client, a real Acd
(with the test clock), one token per role, and an AMI that records the actions it gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from acd.config import AcdConfig
from acd.service.acd import Acd
from acd.store.sync import sync_config
from ground.database import make_engine
from ivr_engine.access.roles import Role
from ivr_engine.access.tokens import TokenStore
from ivr_engine.acd_asterisk.supervision import Supervision
from ivr_engine.http.api.build import build_api
from ivr_engine.http.api.server import ApiServer
from ivr_engine.interpreter.calendar import Calendar
from ivr_engine.menus.registry import MenuRegistry
from ivr_engine.settings import Settings
from tests.db.acd_support import CONFIG, Clock


class AmiResponse(dict[str, str]):
    def __init__(self, success: bool, message: str = "") -> None:
        super().__init__(Response="Success" if success else "Error", Message=message)
        self.success = success


@dataclass
class RecordingAmi:
    """Answers every action with success (or ``refuse`` with an error) and keeps them."""

    actions: list[dict[str, str]] = field(default_factory=list)
    refuse: str | None = None

    async def action(
        self, action: dict[str, str], timeout: float | None = None, *, first_reply: bool = False
    ) -> Any:
        self.actions.append(dict(action))
        return AmiResponse(self.refuse is None, self.refuse or "")


@dataclass
class ApiHarness:
    client: TestClient[Any, Any]
    acd: Acd
    clock: Clock
    ami: RecordingAmi
    server: ApiServer
    tokens: dict[str, str]  # "admin", "supervisor", "8001", "8002" -> token

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def call(
        self, method: str, path: str, who: str | None, body: Any = None, **query: str
    ) -> tuple[int, Any]:
        """One request to /api/v1 as ``who`` (None: no token); (status, JSON body)."""
        headers = self.auth(who) if who else {}
        response = await self.client.request(
            method, "/api/v1" + path, headers=headers, json=body, params=query or None
        )
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, data


@asynccontextmanager
async def api_harness(
    db_url: str,
    clock: Clock | None = None,
    settings: Settings | None = None,
    *,
    menus: MenuRegistry | None = None,
    calendar: Calendar | None = None,
    config: AcdConfig = CONFIG,
) -> AsyncIterator[ApiHarness]:
    """``menus`` and ``calendar`` (their holidays read from a file) add the operations
    endpoints of the menus and the holiday calendar; ``config``: the ACD's."""
    clock = clock or Clock()
    await sync_config(db_url, config)
    acd = Acd(db_url, config, "east", clock=clock)
    engine = make_engine(db_url, connect_timeout=5, command_timeout=10)
    ami = RecordingAmi()
    server = build_api(
        engine,
        acd,
        Supervision(ami),
        settings=settings or Settings(),
        menus=menus,
        calendar=calendar,
    )
    store = TokenStore(engine)
    tokens = {
        "admin": (await store.create("ops", Role.ADMIN))[1],
        "supervisor": (await store.create("wang", Role.SUPERVISOR))[1],
        "8001": (await store.create("li-na", Role.AGENT, agent_id="8001"))[1],
        "8002": (await store.create("zhao", Role.AGENT, agent_id="8002"))[1],
    }
    app = web.Application()
    app.add_routes(server.routes())
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield ApiHarness(client, acd, clock, ami, server, tokens)
    finally:
        await client.close()
        await acd.stop()
        await engine.dispose()
