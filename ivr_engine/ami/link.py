"""A supervised AMI connection built on panoramisk.

panoramisk's ``Manager`` reconnects on its own with unowned ``call_later`` callbacks and sends
actions without a timeout. ``AmiLink`` owns the connection instead: one supervisor task
connects, logs in, installs an event filter, pings, and on any loss reconnects: every
``reconnect_min`` seconds while the port refuses (Asterisk restarting: the link is back
within that of Asterisk listening again), with exponential back-off up to
``reconnect_max`` for any other failure (timeouts, a refused login). Every action has a
timeout. ``state`` feeds the health check.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from panoramisk import Manager
from panoramisk.message import Message

from ground.tasks import cancel_and_wait
from ivr_engine.ami.metrics import NO_METRICS, AmiMetrics
from ivr_engine.ami.protocol import BadInput, IncrementalAmiProtocol
from ivr_engine.settings import AmiSettings

log = logging.getLogger(__name__)

EventHandler = Callable[[Message], Awaitable[None] | None]

# The events the engine reacts to; Asterisk sends the engine's session nothing else.
ENGINE_EVENTS = (
    "FullyBooted",
    "Shutdown",
    "Reload",
    "Hangup",
    "DeviceStateChange",
    "DialEnd",
    "BridgeEnter",
    "BridgeLeave",
    "UserEvent",
)


class LinkState(enum.StrEnum):
    STOPPED = "stopped"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    BACKING_OFF = "backing-off"


class AmiUnavailable(Exception):
    """The AMI link is down, or an action did not complete in time."""


class _SupervisedManager(Manager):  # type: ignore[misc]
    """A panoramisk Manager that reports losses instead of reconnecting by itself."""

    def __init__(self, on_lost: Callable[[], None], on_bad_input: BadInput, **config: Any) -> None:
        super().__init__(**config)
        self._on_lost = on_lost
        self.on_bad_input = on_bad_input  # the protocol reports each message it drops

    def connection_lost(self, exc: Any) -> None:
        self._connected = False
        pinger: asyncio.TimerHandle | None = getattr(self, "pinger", None)
        if pinger is not None:
            pinger.cancel()
            self.pinger = None
        self._on_lost()


class AmiLink:
    """One supervised AMI session: connect, log in, filter events, ping, reconnect."""

    def __init__(
        self,
        settings: AmiSettings,
        events: Iterable[str] = ENGINE_EVENTS,
        *,
        metrics: AmiMetrics = NO_METRICS,
    ) -> None:
        self.settings = settings
        self.events = tuple(events)
        self.metrics = metrics  # counts the actions that fail
        self.state = LinkState.STOPPED
        self.connected_since: float | None = None
        self.reconnects = 0
        self.last_error: str | None = None
        # Messages from Asterisk dropped unread, by kind ("oversized", "unreadable").
        self.bad_input: dict[str, int] = {}
        self._handlers: list[tuple[str, EventHandler]] = []
        self._manager: _SupervisedManager | None = None
        self._lost = asyncio.Event()
        self._up = asyncio.Event()
        self._next_session = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._handler_tasks: set[asyncio.Future[None]] = set()

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._supervise(), name="ami-link")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        for pending in list(self._handler_tasks):
            pending.cancel()
        await asyncio.gather(*self._handler_tasks, return_exceptions=True)
        self._close_manager()
        self.state = LinkState.STOPPED

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def next_session(self) -> asyncio.Event:
        """An event set when the next AMI session is up (after a loss: Asterisk is back).
        Take it before the work after which to wait for it, so no reconnect is missed."""
        return self._next_session

    def on_event(self, pattern: str, handler: EventHandler) -> None:
        """Call ``handler`` for events whose name matches ``pattern`` (fnmatch style)."""
        self._handlers.append((pattern, handler))
        if self._manager is not None:
            self._manager.register_event(pattern, self._wrap(handler))

    # -- actions ----------------------------------------------------------------------
    async def action(
        self, action: dict[str, str], timeout: float | None = None, *, first_reply: bool = False
    ) -> Any:
        """Send one action and wait for its response, at most ``timeout`` seconds.

        ``first_reply``: the action's first reply is the answer (an asynchronous
        Originate's "successfully queued"), not the events that follow it."""
        manager = self._manager
        if self.state is not LinkState.CONNECTED or manager is None:
            self.metrics.error("ami_action")
            raise AmiUnavailable(f"AMI link is {self.state}")
        limit = self.settings.action_timeout if timeout is None else timeout
        future = manager.send_action(dict(action), as_list=False if first_reply else None)
        try:
            return await asyncio.wait_for(future, limit)
        except TimeoutError as exc:
            self.metrics.error("ami_action")
            raise AmiUnavailable(f"AMI action {action.get('Action')} timed out") from exc

    def health(self) -> dict[str, Any]:
        up_for = None
        if self.connected_since is not None and self.state is LinkState.CONNECTED:
            up_for = round(time.monotonic() - self.connected_since, 1)
        return {
            "state": str(self.state),
            "connected_for_s": up_for,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
            "bad_input": dict(self.bad_input),
        }

    # -- supervision ------------------------------------------------------------------
    async def _supervise(self) -> None:
        settings = self.settings
        delay = settings.reconnect_min  # after a failure other than "refused": doubles
        first = True
        failures = 0  # attempts failed in a row
        while True:
            self.state = LinkState.CONNECTING
            wait = delay
            try:
                await self._connect()
            except (OSError, TimeoutError, AmiUnavailable) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                failures += 1
                if isinstance(exc, ConnectionRefusedError):
                    # Nothing listens (Asterisk is restarting): asking again costs nothing,
                    # so ask often, and the link is back soon after Asterisk is.
                    wait = settings.reconnect_min
                else:
                    delay = min(delay * 2, settings.reconnect_max)
                # Once per outage, then once a minute: not a line every half second.
                if failures == 1 or failures % max(1, round(60 / wait)) == 0:
                    log.warning(
                        "AMI connect to %s:%s failed (%d in a row): %s (retrying every %.1fs)",
                        settings.host,
                        settings.port,
                        failures,
                        self.last_error,
                        wait,
                    )
            else:
                if not first:
                    self.reconnects += 1
                first = False
                failures = 0
                delay = wait = settings.reconnect_min
                log.info("AMI link up (%s:%s)", settings.host, settings.port)
                await self._watch()
                log.warning("AMI link lost: %s", self.last_error)
            self._close_manager()
            self._up.clear()
            self.state = LinkState.BACKING_OFF
            await asyncio.sleep(wait)

    async def _connect(self) -> None:
        self._lost.clear()
        manager = _SupervisedManager(
            self._lost.set,
            self._bad_input,
            host=self.settings.host,
            port=self.settings.port,
            username=self.settings.username,
            secret=self.settings.secret.get_secret_value(),
            protocol_factory=IncrementalAmiProtocol,
            ping_delay=3600,  # the supervisor pings, with a timeout
            loop=asyncio.get_running_loop(),
        )
        self._manager = manager
        limit = self.settings.action_timeout
        await asyncio.wait_for(manager.connect(), limit)
        login = manager.authenticated_future
        if login is None:
            raise AmiUnavailable("no login was sent")
        response = await asyncio.wait_for(login, limit)
        if not getattr(response, "success", False):
            raise AmiUnavailable(f"login refused for user {self.settings.username!r}")
        for pattern, handler in self._handlers:
            manager.register_event(pattern, self._wrap(handler))
        self.state = LinkState.CONNECTED
        # Asterisk 22's advanced filters match the event name exactly (no regex scan of the
        # payload); once any include filter exists, the session gets only those events.
        for name in self.events:
            await self.action(
                {
                    "Action": "Filter",
                    "Operation": "Add",
                    "MatchCriteria": f"action(include),name({name})",
                }
            )
        self.connected_since = time.monotonic()
        self.last_error = None
        self._up.set()
        self._next_session.set()  # wakes whoever waits for a new session (the reconciler)
        self._next_session = asyncio.Event()

    async def _watch(self) -> None:
        """Ping every few seconds; return when the connection is lost or a ping fails."""
        interval = max(1.0, self.settings.action_timeout)
        while not self._lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), interval)
                break
            try:
                await self.action({"Action": "Ping"})
            except AmiUnavailable as exc:
                self.last_error = str(exc)
                return
        self.last_error = self.last_error or "connection closed by Asterisk"

    def _bad_input(self, kind: str, _first_line: str) -> None:
        self.bad_input[kind] = self.bad_input.get(kind, 0) + 1
        self.metrics.error("ami_protocol")

    def _close_manager(self) -> None:
        manager, self._manager = self._manager, None
        if manager is not None:
            manager.close()
        if self.state is LinkState.CONNECTED:
            self.state = LinkState.BACKING_OFF

    def _wrap(self, handler: EventHandler) -> Callable[[Any, Message], None]:
        def dispatch(_manager: Any, event: Message) -> None:
            try:
                result = handler(event)
            except Exception:
                log.exception("AMI event handler failed for %s", event.get("Event"))
                return
            if result is not None:
                task = asyncio.ensure_future(result)
                self._handler_tasks.add(task)
                task.add_done_callback(self._handler_done)

        return dispatch

    def _handler_done(self, task: asyncio.Future[None]) -> None:
        self._handler_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("AMI event handler failed: %r", task.exception())
