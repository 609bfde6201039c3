"""The FastAGI server: one owned task per call, bounded reads, graceful stop."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from ivr_engine.agi.connection import AgiConnection
from ivr_engine.agi.errors import AgiError, CallerHangup
from ivr_engine.agi.metrics import NO_METRICS, AgiMetrics
from ivr_engine.agi.result import FINAL_COMMAND_TIMEOUT, RESULT_VARIABLE
from ivr_engine.agi.session import AgiSession
from ivr_engine.agi.stats import AgiStats
from ivr_engine.settings import AgiSettings

log = logging.getLogger(__name__)

Handler = Callable[[AgiSession], Awaitable[None] | None]
Router = Callable[[str], Handler | None]
Outcome = Literal[
    "completed", "caller_hangup", "handler_error", "no_route", "turned_away", "cancelled"
]
SessionClosed = Callable[[AgiSession, Outcome], None]

CLOSE_TIMEOUT = 1.0
STOP_TIMEOUT = 5.0
STREAM_LIMIT = 64 * 1024


class FastAgiServer:
    """Serve FastAGI connections, routing each by ``agi_network_script``.

    ``routes`` is a mapping of network script to handler, or a callable returning the
    handler (or None) for a network script. A handler gets the AgiSession; it may be an
    ``async def`` function or any callable returning an awaitable (or None).

    ``drain_routes``: routes that belong to calls already live (the agent's leg of a
    queued call). While the server stops, it keeps listening for them during the grace
    period; any other new session is turned away to the dialplan's fallback
    (``IVR_RESULT=error``). Without them the listener closes at once.

    ``metrics`` hears every session's commands and every refused connection.
    """

    def __init__(
        self,
        settings: AgiSettings,
        routes: Mapping[str, Handler] | Router,
        *,
        on_session_closed: SessionClosed | None = None,
        drain_routes: frozenset[str] = frozenset(),
        metrics: AgiMetrics = NO_METRICS,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._routes = routes
        self._drain_routes = drain_routes
        self._draining = False
        self._on_session_closed = on_session_closed
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._opening: set[AgiConnection] = set()  # connections still reading their headers
        self.stats = AgiStats()

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the FastAGI server is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the FastAGI server is already started")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._connection, self._settings.host, self._settings.port
        )
        log.info("FastAGI server listening on %s:%d", self._settings.host, self.port)

    async def stop(self, grace: float | None = None) -> None:
        """Stop accepting, give live sessions ``grace`` seconds, then cancel the rest."""
        if self._server is None:
            return
        server, self._server = self._server, None
        self._draining = True
        if not self._drain_routes:
            server.close()
        grace = self._settings.shutdown_grace if grace is None else grace
        pending: set[asyncio.Task[None]] = set(self._tasks)
        if pending and grace > 0:
            _, pending = await asyncio.wait(pending, timeout=grace)
        server.close()
        pending |= {task for task in self._tasks if not task.done()}
        if pending:
            log.warning("cancelling %d AGI session(s) still running at shutdown", len(pending))
            for task in pending:
                task.cancel()
            _, stuck = await asyncio.wait(pending, timeout=STOP_TIMEOUT)
            if stuck:
                log.error("%d AGI session(s) ignored cancellation", len(stuck))
        for connection in list(self._opening):
            connection.close()
        try:
            await asyncio.wait_for(server.wait_closed(), CLOSE_TIMEOUT)
        except TimeoutError:
            log.warning("the FastAGI listener did not close in time")
        log.info("FastAGI server stopped")

    def _connection(self) -> AgiConnection:
        """The protocol of one accepted connection (called by the listener)."""
        self.stats.connections_accepted += 1
        settings = self._settings
        connection = AgiConnection(
            limit=max(STREAM_LIMIT, settings.max_header_bytes),
            header_timeout=settings.header_timeout,
            max_header_bytes=settings.max_header_bytes,
            on_session=self._open,
            on_refused=self._refused,
            on_settled=self._opening.discard,
        )
        self._opening.add(connection)
        return connection

    def _refused(self, kind: str, message: str, peer: object) -> None:
        """A connection whose header block was bad, late or cut: count it and warn."""
        self.stats.count_bad(kind)
        self._metrics.error("agi_protocol")
        reason = message if kind == "header_timeout" else f"{kind}: {message}"
        log.warning("FastAGI connection from %s refused: %s", peer, reason)

    def _open(
        self, headers: dict[str, str], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """The header block is in: start the session's task."""
        session = AgiSession(
            headers,
            reader,
            writer,
            command_timeout=self._settings.command_timeout,
            metrics=self._metrics,
        )
        task = asyncio.get_running_loop().create_task(self._serve(session, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, session: AgiSession, writer: asyncio.StreamWriter) -> None:
        try:
            await self._run(session)
        except Exception:  # a bug here must not kill the server or leak out of the task
            log.exception("FastAGI connection failed")
        finally:
            session.release()
            writer.close()  # the transport sends what is left, then closes

    async def _run(self, session: AgiSession) -> None:
        self.stats.sessions_started += 1
        self.stats.live_sessions += 1
        outcome: Outcome = "cancelled"
        try:
            outcome = await self._dispatch(session)
        finally:
            self.stats.live_sessions -= 1
            self._count(outcome)
            if self._on_session_closed is not None:
                try:
                    self._on_session_closed(session, outcome)
                except Exception:
                    log.exception("on_session_closed failed for %s", session.unique_id)

    async def _dispatch(self, session: AgiSession) -> Outcome:
        """Run the routed handler; CancelledError propagates, anything else is an outcome."""
        script = session.network_script
        if self._draining and script not in self._drain_routes:
            log.info("stopping: %r session on %s sent to the fallback", script, session.channel)
            await _set_result(session, "error")
            return "turned_away"
        try:
            handler = self._find(script)
            if handler is None:
                log.warning("no AGI route for %r (channel %s)", script, session.channel)
                await _set_result(session, "no-route")
                return "no_route"
            with self.stats.live_on(script):
                result = handler(session)
                if inspect.isawaitable(result):
                    await result
        except CallerHangup:
            return "caller_hangup"
        except Exception:
            log.exception("AGI handler for %r failed (channel %s)", script, session.channel)
            await _set_result(session, "error")
            return "handler_error"
        return "completed"

    def _find(self, script: str) -> Handler | None:
        if isinstance(self._routes, Mapping):
            return self._routes.get(script)
        return self._routes(script)

    def _count(self, outcome: Outcome) -> None:
        stats = self.stats
        if outcome == "completed":
            stats.sessions_completed += 1
        elif outcome == "caller_hangup":
            stats.caller_hangups += 1
        elif outcome == "handler_error":
            stats.handler_errors += 1
        elif outcome == "no_route":
            stats.no_route += 1
        elif outcome == "turned_away":
            stats.turned_away += 1
        else:
            stats.sessions_cancelled += 1


async def _set_result(session: AgiSession, value: str) -> None:
    """Tell the dialplan how the session ended, if the channel can still hear it."""
    if not session.usable:
        return
    try:
        await session.set_variable(RESULT_VARIABLE, value, timeout=FINAL_COMMAND_TIMEOUT)
    except AgiError as exc:
        log.info("could not set %s=%s: %s", RESULT_VARIABLE, value, exc)
