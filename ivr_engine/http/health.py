"""GET /health: is the engine fit to take calls, and why not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

HealthSource = Callable[[], dict[str, Any]]


def health_routes(report: HealthSource) -> list[web.RouteDef]:
    async def health(_request: web.Request) -> web.Response:
        body = report()
        status = 200 if body.get("status") == "ok" else 503
        return web.json_response(body, status=status)

    return [web.get("/health", health)]
