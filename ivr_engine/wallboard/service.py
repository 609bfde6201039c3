"""The wallboard of a running engine: its data and its hub.

``Wallboard(settings, acd, agi_stats)`` is made when the engine starts, with the FastAGI
server's counters (its live sessions on the ``hotline`` route are the calls on the hotline
now); the engine adds ``wallboard.routes(authorize)`` to its HTTP side and
``wallboard.on_shutdown`` to the application's shutdown signals.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from acd.service.acd import Acd
from ivr_engine.agi.stats import AgiStats
from ivr_engine.settings import Settings
from ivr_engine.wallboard.data import WallboardData
from ivr_engine.wallboard.figures import LiveCalls
from ivr_engine.wallboard.hub import WallboardHub
from ivr_engine.wallboard.routes import Authorize, wallboard_routes

HOTLINE_ROUTE = "hotline"


class Wallboard:
    def __init__(self, settings: Settings, acd: Acd | None, agi: AgiStats) -> None:
        self.acd = acd
        self.agi = agi
        self.data = WallboardData(
            settings.database_url(),
            config=None if acd is None else acd.config,
            service_level=settings.reports.service_level,
            timezone=ZoneInfo(settings.calendar.timezone),
            live=self.live,
        )
        self.hub = WallboardHub(self.data.take)

    def live(self) -> LiveCalls:
        """The hotline calls now; those the ACD holds (waiting, ringing, talking) apart."""
        with_acd = 0 if self.acd is None else len(self.acd.tickets)
        on_hotline = self.agi.live_by_route.get(HOTLINE_ROUTE, 0)
        return LiveCalls(on_hotline=on_hotline, with_acd=with_acd)

    def routes(self, authorize: Authorize) -> list[web.AbstractRouteDef]:
        return wallboard_routes(self.hub, authorize)

    async def on_shutdown(self, _app: web.Application) -> None:
        """Close the open pages (they would hold the HTTP side up) and the data's engine."""
        await self.hub.close()
        await self.data.close()
