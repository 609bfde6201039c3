"""A fake operator CRM/billing system: a real aiohttp server on 127.0.0.1 that tests steer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SUBSCRIBER = {
    "brand": "gotone",
    "vip": True,
    "vip_level": 3,
    "arpu": "268.00",
    "home_region": "beijing",
    "status": "active",
    "blacklisted": False,
    "package": "gotone-128",
    "account_manager": "ignored extra field",
}
QUERIES: dict[str, dict[str, Any]] = {
    "balance": {"balance": "356.20"},
    "charges": {"charges": "131.40"},
    "package": {
        "package": "gotone-128",
        "minutes_left": 290,
        "data_left_mb": 280,
        "minutes_total": 420,
        "data_total_mb": 400,
    },
    "bill": {"month": "2026-10", "total": "268.00", "paid": True},
    "points": {"points": 12800},
}


class FakeCrm:
    """Knows 13800138000 (password 888888) and card 1000200030004000 (50 yuan)."""

    def __init__(self) -> None:
        self.hits: list[str] = []  # "GET /subscribers/..." in arrival order
        self.statuses: list[int] = []  # forced answers for the next requests, in order
        self.delay = 0.0
        self.body: Any = None  # a forced 200 body
        self.balance = Decimal("356.20")
        self.cards = {"1000200030004000": Decimal(50)}
        self.suspended = False
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(middlewares=[self._steer])
        app.router.add_get("/subscribers/{number}", self._profile)
        app.router.add_get("/subscribers/{number}/{what}", self._query)
        app.router.add_post("/subscribers/{number}/verify-password", self._verify)
        app.router.add_post("/subscribers/{number}/topup", self._topup)
        app.router.add_post("/subscribers/{number}/{action:suspend|resume}", self._suspend)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _steer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.hits.append(f"{request.method} {request.path}")
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.statuses:
            return web.json_response({"error": "forced"}, status=self.statuses.pop(0))
        if self.body is not None:
            return web.json_response(self.body)
        if request.match_info.get("number") != "13800138000":
            return web.json_response({"error": "no such subscriber"}, status=404)
        return await handler(request)

    async def _profile(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(SUBSCRIBER)

    async def _query(self, request: web.Request) -> web.StreamResponse:
        what = request.match_info["what"]
        if what not in QUERIES:
            return web.json_response({"error": "no such query"}, status=400)
        return web.json_response(QUERIES[what])

    async def _verify(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        return web.json_response({"ok": body.get("password") == "888888"})

    async def _topup(self, request: web.Request) -> web.StreamResponse:
        pin = (await request.json())["card_pin"]
        amount = self.cards.pop(pin, None)
        if amount is None:
            return web.json_response({"ok": False, "new_balance": None, "reason": "card-invalid"})
        self.balance += amount
        return web.json_response({"ok": True, "new_balance": str(self.balance), "reason": "ok"})

    async def _suspend(self, request: web.Request) -> web.StreamResponse:
        self.suspended = request.match_info["action"] == "suspend"
        return web.json_response({"ok": True})
