"""The engine: FastAGI server, menus, subscriber data, AMI link, call journal and HTTP side,
started and stopped together. ``Engine.run()`` serves until SIGINT or SIGTERM, then lets
live calls finish; SIGHUP reloads the menus."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from typing import Any

from aiohttp import web

from ivr_engine.agi.server import FastAgiServer
from ivr_engine.ami import AmiLink, LinkState
from ivr_engine.calls.runner import CallRunner
from ivr_engine.http.health import health_routes
from ivr_engine.http.menus import menu_routes
from ivr_engine.interpreter.flow import MenuFlows
from ivr_engine.journal import JournalStore, JournalWriter
from ivr_engine.loop_monitor import LoopMonitor
from ivr_engine.menus.loader import prompt_ids_by_language
from ivr_engine.menus.registry import MenuRegistry
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.services import open_services, upgrade_databases
from ivr_engine.settings import Settings

log = logging.getLogger(__name__)


def _prompt_ids() -> dict[str, frozenset[str]]:
    return prompt_ids_by_language(load_catalogue())


class Engine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.instance = socket.gethostname()
        self.ami = AmiLink(settings.ami)
        self.loop_monitor = LoopMonitor()
        self.menus = MenuRegistry([settings.path(settings.hotline.menus)], _prompt_ids)
        self.store: JournalStore | None = None
        self.journal: JournalWriter | None = None
        self.agi: FastAgiServer | None = None
        self._http: web.AppRunner | None = None
        self._resources = contextlib.AsyncExitStack()
        self._reloads: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self.menus.load()  # bad menus at start-up: refuse to start, with the reasons
        await upgrade_databases(self.settings)  # the schema before any store opens
        self.loop_monitor.start()
        services = await self._resources.enter_async_context(open_services(self.settings))
        self.store = await JournalStore.connect(self.settings.database_url())
        self.journal = JournalWriter(self.store)
        self.journal.start()
        self.ami.start()
        self.menus.start_watching(self.settings.hotline.reload_interval)
        runner = CallRunner(MenuFlows(self.menus, services), self.journal, self.instance)
        self.agi = FastAgiServer(self.settings.agi, {"hotline": runner})
        await self.agi.start()
        app = web.Application()
        app.add_routes(health_routes(self.health))
        app.add_routes(menu_routes(self.menus))
        self._http = web.AppRunner(app, access_log=None)
        await self._http.setup()
        http = self.settings.http
        await web.TCPSite(self._http, http.host, http.port).start()
        log.info(
            "engine up: FastAGI %s:%s, HTTP %s:%s, menus %s, journal %s",
            self.settings.agi.host,
            self.agi.port,
            http.host,
            http.port,
            self.menus.current.version,
            self.settings.database.url,
        )

    async def stop(self) -> None:
        if self.agi is not None:
            await self.agi.stop(self.settings.agi.shutdown_grace)
        if self._http is not None:
            await self._http.cleanup()
        await self.menus.stop_watching()
        for task in list(self._reloads):
            task.cancel()
        await asyncio.gather(*self._reloads, return_exceptions=True)
        await self.ami.stop()
        if self.journal is not None:
            await self.journal.close(timeout=10.0)
        if self.store is not None:
            await self.store.close()
        await self._resources.aclose()
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
            "menus": {
                "version": self.menus.current.version,
                "refused_edit": list(self.menus.last_problems),
            },
            "event_loop": self.loop_monitor.health(),
        }

    def _reload_soon(self) -> None:
        task = asyncio.create_task(self.menus.reload(), name="menu-reload")
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def run(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload_soon)
        await self.start()
        try:
            await stop.wait()
            log.info("shutting down: live calls get %.0fs", self.settings.agi.shutdown_grace)
        finally:
            await self.stop()
