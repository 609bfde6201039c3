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
``Acd`` keeps this instance's tickets and callback tasks, and owns its collaborators, each
of which it builds: the database (:mod:`acd.service.database`), the dispatcher and its
loop, the wake-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.agents import STUCK_GRACE, AgentEvent, AgentState, StateChange, TransitionError
from acd.agents import reconcile as reconcile_agents
from acd.config import AcdConfig
from acd.metrics import NO_METRICS, AcdMetrics
from acd.service.database import AcdDatabase
from acd.service.dispatcher import Dispatcher
from acd.service.mirror import Mirror
from acd.service.tickets import Offer, Ticket
from acd.service.wakeup import PgWakeup
from acd.store.agent_rows import (
    AgentRecord,
    StaleAgent,
    count_staffed,
    load_agents,
    transition,
)
from acd.store.call_rows import (
    CallRecord,
    delete_call,
    insert_call,
    load_call,
    load_calls,
    log_queue,
    move_call,
    recent_talk,
    waiting_ahead,
)
from acd.store.tables import WaitingCallRow
from ground.tasks import cancel_and_wait

log = logging.getLogger(__name__)

__all__ = ["Acd", "CallbackRunner"]

CallbackRunner = Callable[[CallRecord, Offer], Awaitable[None]]
"""Runs a callback the dispatcher reserved an agent for (``ivr_engine.acd_asterisk.callbacks``)."""

T = TypeVar("T")

_RETRIES = 5
DEFAULT_TALK_S = 180.0  # a queue's talk time until it has history


class Acd:
    """``unfit_agents``: the agents whose phones cannot ring now (device states);
    ``callback_window_open``: whether callbacks may be made now."""

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
        metrics: AcdMetrics = NO_METRICS,
    ) -> None:
        self.url = url
        self.metrics = metrics  # database errors and the dispatcher's timings
        self.config = config
        self.instance = instance
        self.clock = clock
        self.callback_runner: CallbackRunner | None = None
        self.tickets: dict[str, Ticket] = {}
        self._database = AcdDatabase(url, timeout=timeout)
        self.postgres = self._database.postgres
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

    async def run_transaction(
        self, work: Callable[[AsyncConnection], Coroutine[Any, Any, T]], *, wake: bool = False
    ) -> T:
        """``work`` in one transaction (see ``transaction``); on SQLite whole in the ACD's
        thread (:class:`acd.service.database.AcdDatabase`)."""
        return await self._database.run_transaction(work, wake=wake)

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
        at = self.clock()
        level = settings.priority if priority is None else priority
        ticket = Ticket(call_id, queue, level, at, caller)
        self.tickets[call_id] = ticket

        async def enter(conn: AsyncConnection) -> None:
            await insert_call(
                conn,
                call_id=call_id,
                queue=queue,
                priority=level,
                at=at,
                instance=self.instance,
                caller=caller,
                channel=channel,
                unique_id=unique_id,
            )
            await log_queue(conn, call_id, queue, "enter", at, detail=f"priority={level}")

        try:
            await self.run_transaction(enter, wake=True)
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

        async def answer(conn: AsyncConnection) -> CallRecord | None:
            record = await load_call(conn, call_id)
            if (
                record is None
                or record.kind != kind
                or record.state != "offered"
                or record.reserved_agent != agent_id
            ):
                return None
            await self._agent(conn, agent_id, AgentEvent.ANSWER, at, call_id=call_id)
            await move_call(conn, call_id, "offered", state="answered")
            wait = at - record.call.entered_at
            await log_queue(
                conn, call_id, record.queue, "answer", at, agent_id=agent_id, wait_s=wait
            )
            return record

        record = await self.run_transaction(answer, wake=True)
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
        event = AgentEvent.RING_NO_ANSWER if miss else AgentEvent.RESERVATION_CANCELLED

        async def ring_out(conn: AsyncConnection) -> None:
            record = await load_call(conn, call_id, lock=self.postgres)
            with contextlib.suppress(TransitionError, StaleAgent):
                await self._agent(conn, agent_id, event, at, call_id=call_id)
            declined = set() if record is None else set(record.call.declined_by)
            moved = record is not None and await move_call(
                conn,
                call_id,
                "offered",
                if_agent=agent_id,
                state="waiting",
                reserved_agent=None,
                declined_by=sorted(declined | {agent_id} if miss else declined),
            )
            if record is not None and moved:
                await log_queue(
                    conn, call_id, record.queue, "ring-no-answer", at, agent_id=agent_id, detail=why
                )

        await self.run_transaction(ring_out, wake=True)
        ticket = self.tickets.get(call_id)
        if ticket is not None and (ticket.offer is None or ticket.offer.agent_id == agent_id):
            ticket.take_back(declined_by=agent_id if miss else None)
        self.dispatcher.poke()

    async def callback_ended(self, record: CallRecord, agent_id: str, customer: str) -> None:
        """A callback's agent leg is over; ``customer`` is the Dial status of the customer
        (ANSWER: done; otherwise tried again later, up to ``max_attempts``)."""
        at = self.clock()
        rules = self.config.callbacks
        attempts = record.attempts + 1
        wrap_up = self._wrap_up(record.queue) if customer == "ANSWER" else 0.0
        async with self.transaction(wake=True) as conn:
            await self._end_call(conn, agent_id, record.id, at, wrap_up)
            if customer == "ANSWER" or attempts >= rules.max_attempts:
                await delete_call(conn, record.id)
                outcome = "answered" if customer == "ANSWER" else f"gave up: {customer}"
            else:
                await move_call(
                    conn,
                    record.id,
                    ("answered", "offered"),
                    state="waiting",
                    reserved_agent=None,
                    attempts=attempts,
                    not_before=at + rules.retry_after_s,
                )
                outcome = f"{customer}, again in {rules.retry_after_s:g} s"
            detail = f"to {record.callback_number} attempt {attempts}: {outcome}"
            await log_queue(
                conn, record.id, record.queue, "callback-made", at, agent_id=agent_id, detail=detail
            )
        self.dispatcher.forget(record.id)
        self.dispatcher.poke()

    async def finished(self, ticket: Ticket, agent_id: str) -> None:
        """The talk with the agent is over (either side hung up): the agent's wrap-up."""
        at = self.clock()
        ticket.done = True
        self.tickets.pop(ticket.call_id, None)
        talk = None if ticket.answered_at is None else at - ticket.answered_at

        async def finish(conn: AsyncConnection) -> None:
            await self._end_call(conn, agent_id, ticket.call_id, at, self._wrap_up(ticket.queue))
            await delete_call(conn, ticket.call_id)
            await log_queue(
                conn, ticket.call_id, ticket.queue, "complete", at, agent_id=agent_id, talk_s=talk
            )

        await self.run_transaction(finish, wake=True)
        self.dispatcher.forget(ticket.call_id)
        self.dispatcher.poke()

    async def abandon(self, ticket: Ticket, why: str = "caller hung up") -> None:
        """The caller left before an agent answered: the row goes, a reserved agent is freed."""
        at = self.clock()
        ticket.done = True
        self.tickets.pop(ticket.call_id, None)

        async def leave(conn: AsyncConnection) -> bool:
            record = await load_call(conn, ticket.call_id, lock=self.postgres)
            if record is None:
                return False
            # Ringing: the reservation is cancelled (no miss). Answered just as the caller
            # hung up: the agent's call is over.
            event = {
                "offered": AgentEvent.RESERVATION_CANCELLED,
                "answered": AgentEvent.CALL_END,
            }.get(record.state)
            if event is not None and record.reserved_agent:
                with contextlib.suppress(TransitionError, StaleAgent):
                    await self._agent(
                        conn, record.reserved_agent, event, at, call_id=ticket.call_id
                    )
            await delete_call(conn, ticket.call_id)
            await log_queue(
                conn,
                ticket.call_id,
                record.queue,
                "abandon",
                at,
                wait_s=at - record.call.entered_at,
                detail=why,
            )
            return True

        if not await self.run_transaction(leave, wake=True):
            return
        self.dispatcher.forget(ticket.call_id)
        self.dispatcher.poke()

    async def overflow(self, ticket: Ticket, queue: str) -> bool:
        """Move a waiting call to ``queue``: same place by age, that queue's clocks restart."""
        at = self.clock()
        async with self.transaction(wake=True) as conn:
            moved = await move_call(conn, ticket.call_id, "waiting", queue=queue, queued_at=at)
            if moved:
                await log_queue(
                    conn, ticket.call_id, ticket.queue, "overflow", at, detail=f"to {queue}"
                )
        if moved:
            ticket.queue = queue
            ticket.queued_at = at
            self.dispatcher.poke()
        return moved

    async def to_callback(self, ticket: Ticket, number: str) -> bool:
        """The caller takes a callback to ``number``: the row becomes a callback, same place."""
        at = self.clock()
        async with self.transaction(wake=True) as conn:
            moved = await move_call(
                conn,
                ticket.call_id,
                "waiting",
                if_kind="caller",
                kind="callback",
                callback_number=number,
                instance=self.instance,
            )
            if moved:
                await log_queue(
                    conn,
                    ticket.call_id,
                    ticket.queue,
                    "callback-offered",
                    at,
                    detail=f"to {number}",
                )
        if moved:
            ticket.done = True
            self.tickets.pop(ticket.call_id, None)
            self.dispatcher.poke()
        return moved

    async def set_priority(self, queue: str, priority: int) -> int:
        """Give every call waiting in ``queue`` this priority; returns how many changed."""
        async with self.transaction(wake=True) as conn:
            result = await conn.execute(
                update(WaitingCallRow)
                .where(
                    WaitingCallRow.queue == queue, WaitingCallRow.state.in_(("waiting", "offered"))
                )
                .values(priority=priority)
            )
        for ticket in self.tickets.values():
            if ticket.queue == queue:
                ticket.priority = priority
        self.dispatcher.poke()
        return int(result.rowcount or 0)

    async def waiting(self, instance: str | None = None) -> list[CallRecord]:
        async with self.transaction() as conn:
            return await load_calls(conn, state=None, instance=instance)

    # -- repairs --------------------------------------------------------------------------
    async def reconcile(
        self, busy_agents: frozenset[str], live_unique_ids: frozenset[str]
    ) -> list[str]:
        """Set the store right from Asterisk's real channels; returns what was repaired.

        Agents reserved or on a call without a channel of theirs get the event that ends
        it (:func:`acd.agents.reconcile`), and a call offered to such an agent goes back in
        line. Callers' rows whose channel is gone, and rows of this instance that no session
        of it holds (left by an earlier run that was killed), are closed as abandoned. A
        callback offered to an agent who is not reserved for it goes back in line.
        """
        at = self.clock()
        repaired: list[str] = []
        async with self.transaction() as conn:
            # Calls first: an offer seen here was made with its agent's reservation, so the
            # agents read next are at least as new (no false "stuck" from a later offer).
            calls = await load_calls(conn, state=None)
            records = await load_agents(conn, states=(AgentState.RESERVED, AgentState.ON_CALL))
        by_id = {c.id: c for c in calls}
        holding = {r.status.current_call: r.status.agent_id for r in records}
        freed: set[str] = set()
        for agent_id, event in reconcile_agents([r.status for r in records], busy_agents, at):
            status = next(r.status for r in records if r.status.agent_id == agent_id)
            call = by_id.get(status.current_call or "")
            wrap = self._wrap_up(call.queue if call is not None else None)
            with contextlib.suppress(TransitionError, StaleAgent):
                async with self.transaction(wake=True) as conn:
                    await self._agent(conn, agent_id, event, at, wrap_up_seconds=wrap)
                    if call is not None:
                        await self._release(conn, call, agent_id)
                freed.add(agent_id)
                repaired.append(f"agent {agent_id}: {event}")
        for call in calls:
            if call.kind == "caller":
                orphan = call.instance == self.instance and call.id not in self.tickets
                gone = bool(call.unique_id) and call.unique_id not in live_unique_ids
                # A talk is closed with its agent's repair (which needs the row for the
                # queue's wrap-up), never while the agent is still on it.
                agent = call.reserved_agent
                talking = call.state == "answered" and (
                    agent in busy_agents or (holding.get(call.id) == agent and agent not in freed)
                )
                if (orphan or gone) and not talking and at - call.call.entered_at >= STUCK_GRACE:
                    how = await self._close_stale(
                        call, at, "no session" if orphan else "no channel"
                    )
                    repaired.append(f"call {call.id}: {how}")
            elif call.reserved_agent and holding.get(call.id) != call.reserved_agent:
                async with self.transaction(wake=True) as conn:
                    released = await self._release(conn, call, call.reserved_agent)
                if released:
                    repaired.append(f"callback {call.id}: back in line")
        if repaired:
            log.warning("reconciled with Asterisk: %s", "; ".join(repaired))
            self.dispatcher.poke()
        return repaired

    async def _release(self, conn: AsyncConnection, call: CallRecord, agent_id: str) -> bool:
        """Put a call offered to ``agent_id`` (or a callback it answered) back in line."""
        states = ("offered", "answered") if call.kind == "callback" else ("offered",)
        moved = await move_call(
            conn, call.id, states, if_agent=agent_id, state="waiting", reserved_agent=None
        )
        ticket = self.tickets.get(call.id)
        if moved and ticket is not None:
            ticket.take_back()
        return moved

    async def _close_stale(self, call: CallRecord, at: float, why: str) -> str:
        """Close a caller's row nobody holds: a talk that was under way is complete (its
        agent's channel is gone), anything else was abandoned."""
        ticket = self.tickets.pop(call.id, None)
        if ticket is not None:
            ticket.done = True
        talked = call.state == "answered"
        async with self.transaction(wake=True) as conn:
            await delete_call(conn, call.id)
            await log_queue(
                conn,
                call.id,
                call.queue,
                "complete" if talked else "abandon",
                at,
                agent_id=call.reserved_agent if talked else None,
                wait_s=None if talked else at - call.call.entered_at,
                detail=f"reconciled: {why}",
            )
        self.dispatcher.forget(call.id)
        return "complete" if talked else "abandoned"

    # -- agents ---------------------------------------------------------------------------
    async def agent_event(
        self, agent_id: str, event: AgentEvent | str, *, reason: str | None = None
    ) -> StateChange:
        """Apply one agent event now (``TransitionError`` / ``PauseReasonError`` if refused,
        ``UnknownAgent`` for an id that is not configured)."""
        at = self.clock()

        async def apply_event(conn: AsyncConnection) -> StateChange:
            _, change = await self._agent(conn, agent_id, event, at, reason=reason)
            return change

        for attempt in range(_RETRIES):
            try:
                change = await self.run_transaction(apply_event, wake=True)
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

    def _wrap_up(self, queue: str | None) -> float:
        """The wrap-up seconds of a queue (0 for one no longer configured)."""
        settings = self.config.queues.get(queue or "")
        return settings.wrap_up_s if settings is not None else 0.0

    async def _end_call(
        self, conn: AsyncConnection, agent_id: str, call_id: str, at: float, wrap_up: float
    ) -> None:
        """The agent's call is over (unless the agent moved on meanwhile)."""
        with contextlib.suppress(TransitionError, StaleAgent):
            await self._agent(
                conn, agent_id, AgentEvent.CALL_END, at, call_id=call_id, wrap_up_seconds=wrap_up
            )

    async def _agent(
        self,
        conn: AsyncConnection,
        agent_id: str,
        event: AgentEvent | str,
        at: float,
        **kwargs: Any,
    ) -> tuple[AgentRecord, StateChange]:
        return await transition(
            conn, agent_id, event, at, policy=self.config.policy, lock=self.postgres, **kwargs
        )
