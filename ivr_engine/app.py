"""The engine: FastAGI server, menus, subscriber data, AMI link, call journal and HTTP side,
started and stopped together. ``Engine.run()`` serves until SIGINT or SIGTERM, then lets
live calls finish; SIGHUP reloads the menus."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from acd.config import AcdConfig, load_config
from acd.service.acd import Acd
from acd.store.sync import sync_config
from ground.database import make_engine
from ground.loop_monitor import LoopMonitor
from ground.tasks import cancel_and_wait
from ivr_engine.acd_asterisk.agent_leg import AgentAnswer, CallbackLeg
from ivr_engine.acd_asterisk.callbacks import CallbackDialler, CallbackLegs
from ivr_engine.acd_asterisk.caller import QueueDesk
from ivr_engine.acd_asterisk.devices import DeviceStates
from ivr_engine.acd_asterisk.features import FeatureCodes
from ivr_engine.acd_asterisk.reconciler import Reconciler
from ivr_engine.acd_asterisk.supervision import Supervision
from ivr_engine.agi.server import FastAgiServer
from ivr_engine.ami import AmiLink, LinkState
from ivr_engine.calls.menu_flow import MenuFlows
from ivr_engine.calls.runner import CallRunner
from ivr_engine.data.nuisance import NuisanceGuard
from ivr_engine.http.api.build import build_api
from ivr_engine.http.api.endpoint import STAFF
from ivr_engine.http.api.server import ApiServer
from ivr_engine.http.health import health_routes
from ivr_engine.http.metrics import metrics_routes
from ivr_engine.interpreter.calendar import Calendar
from ivr_engine.journal import JournalStore, JournalWriter
from ivr_engine.menus.loader import prompt_ids_by_language
from ivr_engine.menus.node_models import QueueNode
from ivr_engine.menus.registry import MenuRegistry
from ivr_engine.metrics.engine import EngineMetrics
from ivr_engine.privacy import JournalPrivacy, shown_url
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.services import open_services, subscriber_data_url, upgrade_databases
from ivr_engine.settings import Settings
from ivr_engine.wallboard.service import Wallboard

log = logging.getLogger(__name__)


def _prompt_ids() -> dict[str, frozenset[str]]:
    return prompt_ids_by_language(load_catalogue())


class Engine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # One instance per FastAGI port: two engines on one host are told apart (journal, ACD).
        self.instance = f"{socket.gethostname()}:{settings.agi.port}"
        self.metrics = EngineMetrics(  # GET /metrics; handed to the parts that report
            service_level=settings.reports.service_level,
            timezone=ZoneInfo(settings.calendar.timezone),
        )
        self.ami = AmiLink(settings.ami, metrics=self.metrics)
        self.loop_monitor = LoopMonitor()
        self.menus = MenuRegistry([settings.path(settings.hotline.menus)], _prompt_ids)
        self.store: JournalStore | None = None
        self.journal: JournalWriter | None = None
        self.agi: FastAgiServer | None = None
        self.acd: Acd | None = None
        self.devices = DeviceStates()
        self.reconciler: Reconciler | None = None
        self._reconcile_task: asyncio.Task[None] | None = None
        self._http: web.AppRunner | None = None
        self.api: ApiServer | None = None
        self.wallboard: Wallboard | None = None
        self._resources = contextlib.AsyncExitStack()
        self._reloads: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self.menus.load()  # bad menus at start-up: refuse to start, with the reasons
        await upgrade_databases(self.settings)  # the schema before any store opens
        self.loop_monitor.start()
        nuisance = None
        if self.settings.nuisance.enabled:
            nuisance = await self._resources.enter_async_context(
                NuisanceGuard.open(
                    self.settings,
                    subscriber_data_url(self.settings),
                    on_block=self.metrics.nuisance_block,
                )
            )
        services = await self._resources.enter_async_context(
            open_services(self.settings, count=self.metrics.counted, nuisance=nuisance)
        )
        self.store = await JournalStore.connect(self.settings.database_url())
        self.journal = JournalWriter(self.store, metrics=self.metrics)
        self.journal.start()
        await self._close_crashed_calls()
        routes: dict[str, Any] = {}
        desks = None
        if self.settings.acd.enabled:
            routes |= await self._start_acd()
            assert self.acd is not None
            agi = self.settings.agi
            desks = QueueDesk(self.acd, agi.host, agi.port).for_call
        self.ami.start()
        self.menus.start_watching(self.settings.hotline.reload_interval)
        privacy = JournalPrivacy.from_settings(self.settings.privacy)
        flows = MenuFlows(self.menus, services, desks)
        runner = CallRunner(flows, self.journal, self.instance, privacy)
        routes["hotline"] = runner
        # The agents' legs of calls already queued are still served while stopping.
        legs = frozenset(routes) - {"hotline"}
        self.agi = FastAgiServer(self.settings.agi, routes, drain_routes=legs, metrics=self.metrics)
        await self.agi.start()
        self.wallboard = Wallboard(self.settings, self.acd, self.agi.stats)
        self.metrics.watch(
            agi=self.agi.stats,
            ami=self.ami,
            journal=self.journal,
            loop=self.loop_monitor,
            acd=self.acd,
        )
        self.metrics.start()
        if self.acd is not None and self.reconciler is not None:
            self.acd.start()
            self._reconcile_task = asyncio.create_task(self.reconciler.run(), name="acd-reconciler")
        api_db = make_engine(self.settings.database_url(), connect_timeout=5, command_timeout=10)
        self._resources.push_async_callback(api_db.dispose)
        supervision = Supervision(self.ami) if self.acd is not None else None
        self.api = build_api(
            api_db,
            self.acd,
            supervision,
            settings=self.settings,
            menus=self.menus,
            calendar=services.calendar,
        )
        app = web.Application(client_max_size=2 << 20)
        app.add_routes(health_routes(self.health))
        app.add_routes(self.api.routes())
        app.add_routes(self.wallboard.routes(self.api.guard.authorizer(STAFF)))
        app.on_shutdown.append(self.wallboard.on_shutdown)
        app.add_routes(metrics_routes(self.metrics.exposition))
        self._http = web.AppRunner(app, access_log=None)
        await self._http.setup()
        http = self.settings.http
        await web.TCPSite(self._http, http.host, http.port).start()
        # What is loaded by now (modules, settings, menus) lives as long as the engine: keep
        # it out of the cycle collector's passes, which then walk only what calls create
        # (a full pass over the start-up heap held every call up for tens of milliseconds).
        gc.collect()
        gc.freeze()
        log.info(
            "engine up: FastAGI %s:%s, HTTP %s:%s, menus %s, journal %s",
            self.settings.agi.host,
            self.agi.port,
            http.host,
            http.port,
            self.menus.current.version,
            shown_url(self.settings.database.url),
        )

    async def _close_crashed_calls(self) -> None:
        """Records an earlier run of this instance left open died with it: close them (before
        any call of this run comes)."""
        assert self.store is not None
        try:
            closed = await self.store.close_unfinished(self.instance)
        except Exception as exc:  # the journal must not keep the hotline from starting
            log.error("journal: could not close the calls of an earlier run: %s", exc)
            return
        if closed:
            log.warning(
                "journal: %d call(s) of an earlier run that stopped mid-call closed as "
                "engine-crashed",
                len(closed),
            )

    async def _start_acd(self) -> dict[str, Any]:
        """The ACD on the engine's database: configuration synced, routes for Asterisk."""
        settings = self.settings
        config = load_config(settings.path(settings.acd.config))
        _check_menu_queues(self.menus, config)
        url = settings.database_url()
        await sync_config(url, config)
        calendar = Calendar.from_settings(
            settings.calendar, settings.path(settings.hotline.holidays)
        )
        legs = CallbackLegs()
        agi = settings.agi
        acd = Acd(
            url,
            config,
            self.instance,
            poll_interval=settings.acd.poll_interval,
            callback_window_open=lambda: config.callbacks.in_window(
                calendar.now().strftime("%H:%M")
            ),
            unfit_agents=self.devices.unfit,
            callback_runner=lambda acd: CallbackDialler(acd, self.ami, agi.host, agi.port, legs),
            metrics=self.metrics,
        )
        self.devices.attach(self.ami)
        self.reconciler = Reconciler(acd, self.ami, self.devices, settings.acd.reconcile_interval)
        self.acd = acd
        return {
            "agent-answer": AgentAnswer(acd),
            "agent-feature": FeatureCodes(acd),
            "callback": CallbackLeg(acd, legs),
        }

    async def stop(self) -> None:
        if self.agi is not None:
            await self.agi.stop(self.settings.agi.shutdown_grace)
        await cancel_and_wait(self._reconcile_task)
        await self.metrics.stop()
        if self.acd is not None:
            await self.acd.stop()
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
            "acd": self.acd.health() if self.acd else {"enabled": False},
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


def _check_menu_queues(menus: MenuRegistry, config: AcdConfig) -> None:
    """Every queue node names a queue of the ACD configuration, or the engine won't start."""
    current = menus.current
    unknown = [
        f"{node_id}: queue {node.queue!r} is not in {config.source}"
        for node_id, node in current.nodes.items()
        if isinstance(node, QueueNode) and node.queue and node.queue not in config.queues
    ]
    if unknown:
        raise ValueError("menus name unknown ACD queues:\n" + "\n".join(unknown))
