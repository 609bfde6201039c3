"""GET /metrics: the engine's metrics for Prometheus, in its text format.

Not behind any login: Prometheus scrapes it from the local network, and it holds figures
only (no numbers, no names, nothing a caller keyed in).
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from ivr_engine.metrics.engine import EngineMetrics


def metrics_routes(metrics: EngineMetrics) -> list[web.RouteDef]:
    async def scrape(_request: web.Request) -> web.Response:
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    return [web.get("/metrics", scrape)]
