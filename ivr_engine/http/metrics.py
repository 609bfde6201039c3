"""GET /metrics: the engine's metrics for Prometheus, in its text format.

Not behind any login: Prometheus scrapes it from the local network, and it holds figures
only (no numbers, no names, nothing a caller keyed in).
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST


def metrics_routes(exposition: Callable[[], bytes]) -> list[web.RouteDef]:
    """``exposition``: the metrics' current text (the engine's ``EngineMetrics.exposition``);
    the HTTP side serves it without knowing what is counted."""

    async def scrape(_request: web.Request) -> web.Response:
        return web.Response(body=exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return [web.get("/metrics", scrape)]
