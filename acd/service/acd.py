"""The running ACD of one engine instance, on the shared SQL store.

Callers: :meth:`Acd.enqueue` puts a call in a queue and returns its :class:`Ticket`; the
dispatcher reserves an agent and sets ``ticket.offer``; the caller's session dials the
agent and reports back: :meth:`answered` (the agent picked up), :meth:`not_answered`
(it rang out: the call keeps its place, that agent is not offered it again),
:meth:`finished` (the talk is over: the agent goes to wrap-up), :meth:`abandon` (the
caller hung up), :meth:`overflow` and :meth:`to_callback` (max-wait actions).

Agents: :meth:`agent_event` applies one agent event (log in, pause, ready...), validated
by :mod:`acd.agents.machine` and written with its state-log line. Feature codes dialled
on agents' phones and the operations API both go through it.

Every change is written to the database before it takes effect, so several instances on
one PostgreSQL database share agents and calls; see :mod:`acd.service.dispatcher`. The
``Acd`` is the façade: it keeps this instance's tickets and callback tasks, and owns its
collaborators, each of which it builds: the database (:mod:`acd.service.database`), the
dispatcher and its loop, the wake-up, the repairs (:mod:`acd.service.repairs`). What an
event writes is in :mod:`acd.service.call_writes` and :mod:`acd.service.agent_writes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from acd.agents import AgentEvent, AgentState, StateChange
from acd.config import AcdConfig
from acd.metrics import NO_METRICS, AcdMetrics
from acd.service import call_writes
from acd.service.agent_writes import AgentWrites
from acd.service.database import AcdDatabase
from acd.service.dispatcher import Dispatcher
from acd.service.mirror import Mirror
from acd.service.repairs import Repairs
from acd.service.tickets import Offer, Ticket
from acd.service.wakeup import PgWakeup
from acd.store.agent_rows import AgentRecord, StaleAgent, count_staffed, load_agents
from acd.store.call_rows import CallRecord, load_call, load_calls, recent_talk, waiting_ahead
from ground.tasks import cancel_and_wait

log = logging.getLogger(__name__)

__all__ = ["Acd", "CallbackRunner"]

CallbackRunner = Callable[[CallRecord, Offer], Awaitable[None]]
"""Runs a callback the dispatcher reserved an agent for (``ivr_engine.acd_asterisk.callbacks``)."""

CallbackRunnerFor = Callable[["Acd"], CallbackRunner]
"""Makes the callback runner of an Acd: the runner reports back to the Acd it is made for,
so the Acd makes it while it is built, and nothing is set on it afterwards."""

_RETRIES = 5
DEFAULT_TALK_S = 180.0  # a queue's talk time until it has history


class Acd:
    """``unfit_agents``: the agents whose phones cannot ring now (device states);
    ``callback_window_open``: whether callbacks may be made now; ``callback_runner``: makes
    what rings an agent for a callback (without one, callbacks wait for an instance that
    has one)."""

    def __init__(
        self,
        url: str,
        config: AcdConfig,
        instance: str,
        *,
        poll_interval: float = 0.5,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        callback_window_open: Callable[[], bool] = lambda: True,
        unfit_agents: Callable[[], frozenset[str]] = frozenset,
        callback_runner: CallbackRunnerFor | None = None,
        metrics: AcdMetrics = NO_METRICS,
    ) -> None:
        self.url = url
        self.metrics = metrics  # database errors and the dispatcher's timings
        self.config = config
        self.instance = instance
        self.clock = clock
        self.callback_runner: CallbackRunner | None = (
            callback_runner(self) if callback_runner is not None else None
        )
        self.tickets: dict[str, Ticket] = {}
        self._database = AcdDatabase(url, timeout=timeout)
        self.postgres = self._database.postgres
        self._agent_writes = AgentWrites(config, lock_rows=self.postgres)
        self.dispatcher = Dispatcher(
            self._database,
            Mirror(config.routing()),
            self.deliver,
            instance=instance,
            policy=config.policy,
            clock=clock,
            metrics=metrics,
            poll_interval=poll_interval,
            unfit_agents=unfit_agents,
            callback_window_open=callback_window_open,
        )
        self._repairs = Repairs(
            self._database, self._agent_writes, self.tickets, self.dispatcher, instance=instance
        )
        self._task: asyncio.Task[None] | None = None
        self._wakeup: PgWakeup | None = None
        self._wakeup_task: asyncio.Task[None] | None = None
        self._callbacks: dict[str, asyncio.Task[None]] = {}

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start the dispatcher's loop, the database's housekeeping and (PostgreSQL) the
        wake-up; what is running already is left running."""
        if self._task is None:
            self._task = asyncio.create_task(self.dispatcher.run(), name="acd-dispatcher")
        self._database.start()
        if self.postgres and self._wakeup_task is None:
            self._wakeup = PgWakeup(self.url, self.dispatcher.poke)
            self._wakeup_task = asyncio.create_task(self._wakeup.run(), name="acd-wakeup")

    async def stop(self) -> None:
        """Stop every task started here (callbacks under way too), then the database."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        wakeup, self._wakeup_task = self._wakeup_task, None
        await cancel_and_wait(wakeup)
        for running in list(self._callbacks.values()):
            await cancel_and_wait(running)
        await self._database.close()

    @property
    def sqlite_thread(self) -> ThreadPoolExecutor | None:
        """The thread SQLite passes run in (None on PostgreSQL)."""
        return self._database.sqlite_thread

    def transaction(
        self, *, wake: bool = False
    ) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        """One transaction; ``wake``: it changes what can be routed, so the other instances
        are woken when it commits."""
        return self._database.transaction(wake=wake)

    async def notify(self, conn: AsyncConnection) -> None:
        """Wake the other instances when this transaction commits (PostgreSQL)."""
        await self._database.notify(conn)

    def health(self) -> dict[str, Any]:
        d = self.dispatcher
        return {
            "healthy": d.last_error is None,
            "waiting_here": len(self.tickets),
            "callbacks_running": len(self._callbacks),
            "passes": d.passes,
            "failed_passes": d.failures,
            "last_error": d.last_error,
            "wake_up": None if self._wakeup is None else self._wakeup.listening,
        }

    # -- callers --------------------------------------------------------------------------
    async def enqueue(
        self,
        call_id: str,
        queue: str,
        *,
        priority: int | None = None,
        caller: str = "",
        channel: str = "",
        unique_id: str = "",
    ) -> Ticket:
        settings = self.config.queues[queue]  # KeyError: an unknown queue
        level = settings.priority if priority is None else priority
        ticket = Ticket(call_id, queue, level, self.clock(), caller)
        self.tickets[call_id] = ticket
        try:
            await self._database.run_transaction(
                lambda conn: call_writes.enter(
                    conn, ticket, instance=self.instance, channel=channel, unique_id=unique_id
                ),
                wake=True,
            )
        except BaseException:
            self.tickets.pop(call_id, None)
            raise
        self.dispatcher.poke()
        return ticket

    async def deliver(self, record: CallRecord, offer: Offer) -> None:
        """An offer found for one of this instance's calls: to its ticket or callback runner."""
        if record.kind == "callback":
            if record.id not in self._callbacks and self.callback_runner is not None:
                task = asyncio.create_task(
                    self._run_callback(record, offer), name=f"callback-{record.id}"
                )
                self._callbacks[record.id] = task
            return
        ticket = self.tickets.get(record.id)
        if ticket is not None:
            ticket.give(offer)

    async def _run_callback(self, record: CallRecord, offer: Offer) -> None:
        assert self.callback_runner is not None
        try:
            await self.callback_runner(record, offer)
        except Exception:
            log.exception("callback %s failed", record.id)
        finally:
            self._callbacks.pop(record.id, None)

    async def position(self, ticket: Ticket) -> int:
        """The caller's place in its queue, from 1."""
        async with self.transaction() as conn:
            record = await load_call(conn, ticket.call_id)
            if record is None:
                return 1
            return 1 + await waiting_ahead(conn, record.call)

    async def estimate(self, ticket: Ticket) -> tuple[int, float]:
        """The caller's place in its queue (from 1) and the estimated wait in seconds:
        the calls ahead and this one, times the queue's mean handling time (recent talk
        plus wrap-up), shared among the logged-in agents who can take the queue's calls."""
        settings = self.config.queues[ticket.queue]
        async with self.transaction() as conn:
            record = await load_call(conn, ticket.call_id)
            ahead = 0 if record is None else await waiting_ahead(conn, record.call)
            talk = await recent_talk(conn, ticket.queue)
            staffed = await count_staffed(conn, settings.routing.requirements)
        handle = (talk if talk is not None else DEFAULT_TALK_S) + settings.wrap_up_s
        return ahead + 1, (ahead + 1) * handle / max(1, staffed)

    async def answered(
        self, call_id: str, agent_id: str, *, kind: str = "caller"
    ) -> CallRecord | None:
        """The agent picked up a call of ``kind`` (caller or callback); None when no such
        call is offered to that agent any more."""
        at = self.clock()
        record = await self._database.run_transaction(
            lambda conn: call_writes.answer(conn, self._agent_writes, call_id, agent_id, kind, at),
            wake=True,
        )
        if record is None:
            return None
        ticket = self.tickets.get(call_id)
        if ticket is not None:
            ticket.answered_at = at
        return record

    async def not_answered(
        self, call_id: str, agent_id: str, why: str, *, miss: bool = True
    ) -> None:
        """The agent's phone rang out (or was busy): back in line, in the same place, and
        never offered to that agent again. A late ring-out of an earlier agent changes
        nothing: the call is then offered to someone else. ``miss=False``: the agent is not
        to blame (answered, but could not be connected): no missed call, may be offered it
        again."""
        at = self.clock()
        await self._database.run_transaction(
            lambda conn: call_writes.ring_out(
                conn, self._agent_writes, call_id, agent_id, at, why=why, miss=miss
            ),
            wake=True,
        )
        ticket = self.tickets.get(call_id)
        if ticket is not None and (ticket.offer is None or ticket.offer.agent_id == agent_id):
            ticket.take_back(declined_by=agent_id if miss else None)
        self.dispatcher.poke()

    async def callback_ended(self, record: CallRecord, agent_id: str, customer: str) -> None:
        """A callback's agent leg is over; ``customer`` is the Dial status of the customer
        (ANSWER: done; otherwise tried again later, up to ``max_attempts``)."""
        at = self.clock()
        async with self.transaction(wake=True) as conn:
            await call_writes.end_callback(
                conn, self._agent_writes, record, agent_id, customer, at, self.config.callbacks
            )
        self.dispatcher.forget(record.id)
        self.dispatcher.poke()

    async def finished(self, ticket: Ticket, agent_id: str) -> None:
        """The talk with the agent is over (either side hung up): the agent's wrap-up."""
        at = self.clock()
        ticket.done = True
        self.tickets.pop(ticket.call_id, None)
        await self._database.run_transaction(
            lambda conn: call_writes.finish(conn, self._agent_writes, ticket, agent_id, at),
            wake=True,
        )
        self.dispatcher.forget(ticket.call_id)
        self.dispatcher.poke()

    async def abandon(self, ticket: Ticket, why: str = "caller hung up") -> None:
        """The caller left before an agent answered: the row goes, a reserved agent is freed."""
        at = self.clock()
        ticket.done = True
        self.tickets.pop(ticket.call_id, None)
        if not await self._database.run_transaction(
            lambda conn: call_writes.leave(conn, self._agent_writes, ticket.call_id, at, why),
            wake=True,
        ):
            return
        self.dispatcher.forget(ticket.call_id)
        self.dispatcher.poke()

    async def overflow(self, ticket: Ticket, queue: str) -> bool:
        """Move a waiting call to ``queue``: same place by age, that queue's clocks restart."""
        at = self.clock()
        async with self.transaction(wake=True) as conn:
            moved = await call_writes.overflow(conn, ticket, queue, at)
        if moved:
            ticket.queue = queue
            ticket.queued_at = at
            self.dispatcher.poke()
        return moved

    async def to_callback(self, ticket: Ticket, number: str) -> bool:
        """The caller takes a callback to ``number``: the row becomes a callback, same place."""
        at = self.clock()
        async with self.transaction(wake=True) as conn:
            moved = await call_writes.to_callback(conn, ticket, number, at, instance=self.instance)
        if moved:
            ticket.done = True
            self.tickets.pop(ticket.call_id, None)
            self.dispatcher.poke()
        return moved

    async def set_priority(self, queue: str, priority: int) -> int:
        """Give every call waiting in ``queue`` this priority; returns how many changed."""
        async with self.transaction(wake=True) as conn:
            changed = await call_writes.set_priority(conn, queue, priority)
        for ticket in self.tickets.values():
            if ticket.queue == queue:
                ticket.priority = priority
        self.dispatcher.poke()
        return changed

    async def waiting(self, instance: str | None = None) -> list[CallRecord]:
        async with self.transaction() as conn:
            return await load_calls(conn, state=None, instance=instance)

    # -- repairs --------------------------------------------------------------------------
    async def reconcile(
        self, busy_agents: frozenset[str], live_unique_ids: frozenset[str]
    ) -> list[str]:
        """Set the store right from Asterisk's real channels; returns what was repaired.

        Agents reserved or on a call without a channel of theirs get the event that ends
        it, and a call offered to such an agent goes back in line. Callers' rows whose
        channel is gone, and rows of this instance that no session of it holds (left by an
        earlier run that was killed), are closed as abandoned. A callback offered to an
        agent who is not reserved for it goes back in line (:mod:`acd.service.repairs`).
        """
        return await self._repairs.reconcile(busy_agents, live_unique_ids, self.clock())

    # -- agents ---------------------------------------------------------------------------
    async def agent_event(
        self, agent_id: str, event: AgentEvent | str, *, reason: str | None = None
    ) -> StateChange:
        """Apply one agent event now (``TransitionError`` / ``PauseReasonError`` if refused,
        ``UnknownAgent`` for an id that is not configured)."""
        at = self.clock()

        async def apply_event(conn: AsyncConnection) -> StateChange:
            _, change = await self._agent_writes.apply(conn, agent_id, event, at, reason=reason)
            return change

        for attempt in range(_RETRIES):
            try:
                change = await self._database.run_transaction(apply_event, wake=True)
            except StaleAgent:
                if attempt == _RETRIES - 1:
                    raise
                continue
            if change.to_state is AgentState.AVAILABLE:
                self.dispatcher.poke()
            return change
        raise AssertionError("unreachable")

    async def agents(self) -> list[AgentRecord]:
        async with self.transaction() as conn:
            return await load_agents(conn)
