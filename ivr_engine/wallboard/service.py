"""The wallboard of a running engine: its data, its hub, and the count of live hotline calls.

``Wallboard(settings, acd)`` is made when the engine starts; the engine wraps its hotline
route with ``wallboard.hotline.counting(...)``, adds ``wallboard.routes(authorize)`` to its
HTTP side and ``wallboard.on_shutdown`` to the application's shutdown signals.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from acd.service.acd import Acd
from ivr_engine.settings import Settings
from ivr_engine.wallboard.hub import WallboardHub
from ivr_engine.wallboard.live import LiveSessions
from ivr_engine.wallboard.routes import Authorize, wallboard_routes
from ivr_engine.wallboard.snapshot import LiveCalls, WallboardData


class Wallboard:
    def __init__(self, settings: Settings, acd: Acd | None) -> None:
        self.acd = acd
        self.hotline = LiveSessions()
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
        return LiveCalls(on_hotline=self.hotline.live, with_acd=with_acd)

    def routes(self, authorize: Authorize) -> list[web.AbstractRouteDef]:
        return wallboard_routes(self.hub, authorize)

    async def on_shutdown(self, _app: web.Application) -> None:
        """Close the open pages (they would hold the HTTP side up) and the data's engine."""
        await self.hub.close()
        await self.data.close()
