"""The engine: FastAGI server, AMI link, call journal and HTTP side, started and stopped
together. ``Engine.run()`` serves until SIGINT or SIGTERM, then lets live calls finish."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from typing import Any

from aiohttp import web

from ivr_engine.agi.server import FastAgiServer
from ivr_engine.ami import AmiLink, LinkState
from ivr_engine.calls.runner import CallRunner
from ivr_engine.calls.welcome import welcome_flow
from ivr_engine.http.health import health_routes
from ivr_engine.journal import JournalStore, JournalWriter
from ivr_engine.loop_monitor import LoopMonitor
from ivr_engine.settings import Settings

log = logging.getLogger(__name__)

HOTLINE_NUMBERS = ("10086", "10000", "10001")


class Engine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.instance = socket.gethostname()
        self.ami = AmiLink(settings.ami)
        self.loop_monitor = LoopMonitor()
        self.store: JournalStore | None = None
        self.journal: JournalWriter | None = None
        self.agi: FastAgiServer | None = None
        self._http: web.AppRunner | None = None

    async def start(self) -> None:
        self.loop_monitor.start()
        self.store = await JournalStore.connect(self.settings.database_url())
        self.journal = JournalWriter(self.store)
        self.journal.start()
        self.ami.start()
        runner = CallRunner(
            dict.fromkeys(HOTLINE_NUMBERS, welcome_flow), self.journal, self.instance
        )
        self.agi = FastAgiServer(self.settings.agi, {"hotline": runner})
        await self.agi.start()
        app = web.Application()
        app.add_routes(health_routes(self.health))
        self._http = web.AppRunner(app, access_log=None)
        await self._http.setup()
        http = self.settings.http
        await web.TCPSite(self._http, http.host, http.port).start()
        log.info(
            "engine up: FastAGI %s:%s, HTTP %s:%s, journal %s",
            self.settings.agi.host,
            self.agi.port,
            http.host,
            http.port,
            self.settings.database.url,
        )

    async def stop(self) -> None:
        if self.agi is not None:
            await self.agi.stop(self.settings.agi.shutdown_grace)
        if self._http is not None:
            await self._http.cleanup()
        await self.ami.stop()
        if self.journal is not None:
            await self.journal.close(timeout=10.0)
        if self.store is not None:
            await self.store.close()
        await self.loop_monitor.stop()
        log.info("engine stopped")

    def health(self) -> dict[str, Any]:
        ami = self.ami.health()
        journal = self.journal.stats() if self.journal else {"healthy": False}
        agi = self.agi.stats.as_dict() if self.agi else {}
        ok = ami["state"] == LinkState.CONNECTED and journal.get("healthy", False)
        return {
            "status": "ok" if ok else "degraded",
            "instance": self.instance,
            "ami": ami,
            "agi": agi,
            "journal": journal,
            "event_loop": self.loop_monitor.health(),
        }

    async def run(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            await stop.wait()
            log.info("shutting down: live calls get %.0fs", self.settings.agi.shutdown_grace)
        finally:
            await self.stop()
