"""The ACD's periodic work, in one pass: finish due wrap-ups, reserve agents for waiting
calls, and find the offers other instances made to this instance's calls.

A pass is one transaction for the reservations. On PostgreSQL the free agents and the
waiting calls are read ``FOR UPDATE SKIP LOCKED``: while one instance reserves, another
sees no rows to pair and cannot take the same agent or call; every write is also a
compare-and-set (agent ``version``, call ``state``), so a lost race rolls the pass back
instead of reserving anything twice. SQLite has one writer at a time (its transactions
take the write lock when they begin).

``Dispatcher.run`` repeats passes: at once when poked (a call entered, an agent freed up),
at the next escalation step or wrap-up end, and at least every ``poll_interval`` seconds,
which is also how it sees other instances' changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from acd.agents import AgentEvent, AgentState, TransitionError, apply, due_wrap_ups
from acd.routing import AgentView, next_change_at
from acd.service.matching import pair_up
from acd.service.tickets import Offer
from acd.store.agent_rows import StaleAgent, load_agents, load_skills, transition, write_status
from acd.store.call_rows import CallRecord, load_calls, log_queue, move_call

if TYPE_CHECKING:
    from acd.service.acd import Acd

log = logging.getLogger(__name__)

__all__ = ["Dispatcher", "PassResult"]


@dataclass(frozen=True)
class PassResult:
    reserved: list[tuple[str, str]]  # (call id, agent id)
    next_at: float | None  # when the next escalation step or wrap-up end is due


class _LostRace(Exception):
    """A call changed under the pass: roll back and try again next pass."""


class Dispatcher:
    def __init__(self, acd: Acd, poll_interval: float) -> None:
        self.acd = acd
        self.poll_interval = poll_interval
        self.passes = 0
        self.failures = 0
        self.last_error: str | None = None
        self._poke = asyncio.Event()
        self.on_pass: list[Callable[[PassResult], Awaitable[None] | None]] = []

    def poke(self) -> None:
        self._poke.set()

    async def run(self) -> None:
        while True:
            self._poke.clear()
            wait = self.poll_interval
            try:
                result = await self.run_pass()
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                self.failures += 1
                self.acd.metrics.error("acd_database")
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("ACD pass failed (%s); retrying", self.last_error)
            else:
                self.last_error = None
                if result.next_at is not None:
                    wait = min(wait, max(0.0, result.next_at - self.acd.clock()) + 0.01)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), wait)

    async def run_pass(self) -> PassResult:
        acd = self.acd
        now = acd.clock()
        self.passes += 1
        wrap_up_end = await self._finish_wrap_ups(now)
        try:
            reserved, calls = await self._reserve(now)
        except (_LostRace, StaleAgent) as exc:
            log.info("ACD pass lost a race (%s); again at once", exc)
            self.poke()
            reserved, calls = [], []
        await self._deliver_offers()
        times = [t for t in (self._next_change(calls, now), wrap_up_end) if t is not None]
        return PassResult(reserved, min(times, default=None))

    async def _finish_wrap_ups(self, now: float) -> float | None:
        """End every wrap-up that is due; return when the next one ends."""
        acd = self.acd
        async with acd.transaction() as conn:
            records = await load_agents(conn, states=(AgentState.WRAP_UP,))
        for agent_id, event in due_wrap_ups([r.status for r in records], now):
            with contextlib.suppress(TransitionError, StaleAgent):
                async with acd.transaction(wake=True) as conn:
                    await transition(conn, agent_id, event, now, policy=acd.config.policy)
        ends = [r.status.wrap_up_until for r in records]
        return min((t for t in ends if t is not None and t > now), default=None)

    async def _reserve(self, now: float) -> tuple[list[tuple[str, str]], list[CallRecord]]:
        acd = self.acd
        queues = acd.config.routing()
        reserved: list[tuple[str, str]] = []
        started = time.perf_counter()
        async with acd.transaction() as conn:
            calls = await load_calls(conn, due_at=now, skip_locked=acd.postgres)
            routable = [c for c in calls if c.kind == "caller" or acd.callback_window_open()]
            if not routable:
                return [], calls
            records = await load_agents(
                conn, states=(AgentState.AVAILABLE,), skip_locked=acd.postgres
            )
            if not records:
                return [], calls
            skills = await load_skills(conn, [r.status.agent_id for r in records])
            unfit = acd.unfit_agents()
            by_id = {r.status.agent_id: r for r in records}
            views = [
                AgentView(
                    id=r.status.agent_id,
                    skills=skills.get(r.status.agent_id, {}),
                    available=r.status.agent_id not in unfit,
                    idle_since=r.idle_since,
                    calls_today=r.status.calls_today,
                )
                for r in records
            ]
            pairs = pair_up(
                [c.call for c in routable],
                views,
                queues,
                now,
                last_assigned=acd.last_assigned,
                timed=acd.metrics.acd_decision,
            )
            for call, agent in pairs:
                record = by_id[agent.id]
                new, change = apply(
                    record.status,
                    AgentEvent.RESERVE,
                    now,
                    policy=acd.config.policy,
                    call_id=call.id,
                )
                await write_status(conn, record, new, change, call.id)
                if not await move_call(
                    conn, call.id, "waiting", state="offered", reserved_agent=agent.id
                ):
                    raise _LostRace(f"call {call.id} is no longer waiting")
                await log_queue(conn, call.id, call.queue, "offer", now, agent_id=agent.id)
                reserved.append((call.id, agent.id))
            if reserved:  # the instances that own these calls must dial now
                await acd.notify(conn)
        acd.metrics.acd_pass(time.perf_counter() - started)  # committed: a whole decision
        for call, agent in pairs:
            acd.last_assigned[call.queue] = agent.id
        return reserved, calls

    async def _deliver_offers(self) -> None:
        """Hand this instance's offered calls (by whichever instance) to their owners."""
        acd = self.acd
        async with acd.transaction() as conn:
            offered = await load_calls(conn, state="offered", instance=acd.instance)
            if not offered:  # the usual pass: nothing to hand over, no second query
                return
            endpoints = {
                r.status.agent_id: r.endpoint
                for r in await load_agents(conn, states=(AgentState.RESERVED,))
            }
        for record in offered:
            agent = record.reserved_agent
            if agent is None:
                continue
            offer = Offer(agent, endpoints.get(agent) or f"PJSIP/{agent}")
            await acd.deliver(record, offer)

    def _next_change(self, calls: list[CallRecord], now: float) -> float | None:
        queues = self.acd.config.routing()
        times = [
            t
            for c in calls
            if c.queue in queues and (t := next_change_at(c.call, queues[c.queue], now)) is not None
        ]
        times += [c.not_before for c in calls if c.not_before is not None and c.not_before > now]
        return min(times, default=None)
