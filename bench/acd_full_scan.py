"""The ACD's matching pass as it was before the incremental one: the same-run baseline of
benchmark 4 (``bench.acd_decisions``).

Every pass reads every waiting call and every free agent (with their skills) from the
database, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, pairs them with
``acd.service.matching.pair_up`` (the specification's ``choose_agent`` over all free
agents, call after call) and writes the reservations in the same transaction. Kept here,
unchanged in what it reads and decides, so that the benchmark can show what the engine
gained on the same data in the same run. It works through an ACD's public surface, and
its passes are run by hand (a pass that loses a race to another writer reserves nothing).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from acd.agents import AgentEvent, AgentState, TransitionError, apply, due_wrap_ups
from acd.routing import AgentView, next_change_at
from acd.service.acd import Acd
from acd.service.dispatcher import PassResult
from acd.service.matching import pair_up
from acd.service.tickets import Offer
from acd.store.agent_rows import StaleAgent, load_agents, load_skills, transition, write_status
from acd.store.call_rows import CallRecord, load_calls, log_queue, move_call

__all__ = ["FullScan"]


class _LostRace(Exception):
    pass


class FullScan:
    """Passes that read all waiting calls and all free agents, for ``acd``'s callers.

    ``last_assigned``: the round-robin memory (queue -> agent), read and kept up to date;
    ``unfit_agents`` and ``callback_window_open`` as for :class:`acd.service.acd.Acd`."""

    def __init__(
        self,
        acd: Acd,
        last_assigned: dict[str, str],
        *,
        unfit_agents: Callable[[], frozenset[str]] = frozenset,
        callback_window_open: Callable[[], bool] = lambda: True,
    ) -> None:
        self.acd = acd
        self.last_assigned = last_assigned
        self.unfit_agents = unfit_agents
        self.callback_window_open = callback_window_open

    async def run_pass(self) -> PassResult:
        acd = self.acd
        now = acd.clock()
        wrap_up_end = await self._full_wrap_ups(now)
        try:
            reserved, calls = await self._full_reserve(now)
        except (_LostRace, StaleAgent):
            reserved, calls = [], []
        await self._full_deliver()
        times = [t for t in (self._full_next_change(calls, now), wrap_up_end) if t is not None]
        return PassResult(reserved, min(times, default=None))

    async def _full_wrap_ups(self, now: float) -> float | None:
        acd = self.acd
        async with acd.transaction() as conn:
            records = await load_agents(conn, states=(AgentState.WRAP_UP,))
        for agent_id, event in due_wrap_ups([r.status for r in records], now):
            with contextlib.suppress(TransitionError, StaleAgent):
                async with acd.transaction(wake=True) as conn:
                    await transition(conn, agent_id, event, now, policy=acd.config.policy)
        ends = [r.status.wrap_up_until for r in records]
        return min((t for t in ends if t is not None and t > now), default=None)

    async def _full_reserve(self, now: float) -> tuple[list[tuple[str, str]], list[CallRecord]]:
        acd = self.acd
        queues = acd.config.routing()
        reserved: list[tuple[str, str]] = []
        started = time.perf_counter()
        async with acd.transaction() as conn:
            calls = await load_calls(conn, due_at=now, skip_locked=acd.postgres)
            routable = [c for c in calls if c.kind == "caller" or self.callback_window_open()]
            if not routable:
                return [], calls
            records = await load_agents(
                conn, states=(AgentState.AVAILABLE,), skip_locked=acd.postgres
            )
            if not records:
                return [], calls
            skills = await load_skills(conn, [r.status.agent_id for r in records])
            unfit = self.unfit_agents()
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
                last_assigned=self.last_assigned,
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
            if reserved:
                await acd.notify(conn)
        acd.metrics.acd_pass(time.perf_counter() - started)
        for call, agent in pairs:
            self.last_assigned[call.queue] = agent.id
        return reserved, calls

    async def _full_deliver(self) -> None:
        acd = self.acd
        async with acd.transaction() as conn:
            offered = await load_calls(conn, state="offered", instance=acd.instance)
            if not offered:
                return
            endpoints = {
                r.status.agent_id: r.endpoint
                for r in await load_agents(conn, states=(AgentState.RESERVED,))
            }
        for record in offered:
            agent = record.reserved_agent
            if agent is not None:
                await acd.deliver(record, Offer(agent, endpoints.get(agent) or f"PJSIP/{agent}"))

    def _full_next_change(self, calls: list[CallRecord], now: float) -> float | None:
        queues = self.acd.config.routing()
        times = [
            t
            for c in calls
            if c.queue in queues and (t := next_change_at(c.call, queues[c.queue], now)) is not None
        ]
        return min(times, default=None)
