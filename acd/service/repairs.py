"""Setting the store right from what Asterisk says is really going on.

Events get lost: the engine is killed during a call, an AMI session drops a hangup. Then
rows stay that nothing will ever move on: an agent reserved or on a call without a
channel, a caller's row whose caller is gone, a callback offered to an agent who is no
longer reserved for it. :meth:`Repairs.reconcile` is given the agents that have a channel
(ringing or talking) and the channels that exist, and repairs each kind in its own step:

1. :meth:`Repairs._free_stuck_agents`: an agent stuck reserved or on a call gets the
   event that ends it (:func:`acd.agents.reconcile`), and the call it held goes back in
   line.
2. :meth:`Repairs._close_if_stale`: a caller's row whose channel is gone, or that is this
   instance's but no session of it holds (left by an earlier run that was killed), is
   closed: a talk as complete, anything else as abandoned.
3. :meth:`Repairs._release_callback`: a callback offered to (or answered by) an agent
   whose row does not hold it goes back in line.

Every repair is its own transaction, and each leaves alone what changed meanwhile (the
writes are compare-and-sets), so a repair racing the event it stands in for is harmless.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from acd.agents import STUCK_GRACE, AgentEvent, AgentState, TransitionError
from acd.agents import reconcile as reconcile_agents
from acd.service.agent_writes import AgentWrites
from acd.service.database import AcdDatabase
from acd.service.dispatcher import Dispatcher
from acd.service.tickets import Ticket
from acd.store.agent_rows import AgentRecord, StaleAgent, load_agents
from acd.store.call_rows import CallRecord, delete_call, load_calls, log_queue, move_call

log = logging.getLogger(__name__)

__all__ = ["Repairs"]


@dataclass
class _Seen:
    """The store as one repair run read it, and the agents it freed so far."""

    calls: list[CallRecord]
    agents: dict[str, AgentRecord]  # the agents reserved or on a call, by id
    freed: set[str] = field(default_factory=set)  # agents step 1 freed
    by_id: dict[str, CallRecord] = field(init=False)
    holding: dict[str | None, str] = field(init=False)  # call id -> the agent whose row has it

    def __post_init__(self) -> None:
        self.by_id = {c.id: c for c in self.calls}
        self.holding = {r.status.current_call: a for a, r in self.agents.items()}


class Repairs:
    """The repairs of one instance: ``tickets`` are its callers' (the Acd's own dict)."""

    def __init__(
        self,
        database: AcdDatabase,
        agent_writes: AgentWrites,
        tickets: dict[str, Ticket],
        dispatcher: Dispatcher,
        *,
        instance: str,
    ) -> None:
        self._database = database
        self._agent_writes = agent_writes
        self._tickets = tickets
        self._dispatcher = dispatcher
        self._instance = instance

    async def reconcile(
        self, busy_agents: frozenset[str], live_unique_ids: frozenset[str], at: float
    ) -> list[str]:
        """Repair what ``busy_agents`` (those with a channel) and ``live_unique_ids`` (the
        channels that exist) show to be wrong at ``at``; returns what was repaired."""
        seen = await self._read()
        repaired = await self._free_stuck_agents(seen, busy_agents, at)
        for call in seen.calls:
            if call.kind == "caller":
                line = await self._close_if_stale(call, seen, busy_agents, live_unique_ids, at)
            else:
                line = await self._release_callback(call, seen)
            if line is not None:
                repaired.append(line)
        if repaired:
            log.warning("reconciled with Asterisk: %s", "; ".join(repaired))
            self._dispatcher.poke()
        return repaired

    async def _read(self) -> _Seen:
        """Every call, and the agents reserved or on a call, in one transaction.

        Calls first: an offer seen here was made with its agent's reservation, so the
        agents read next are at least as new (no false "stuck" from a later offer)."""
        async with self._database.transaction() as conn:
            calls = await load_calls(conn, state=None)
            records = await load_agents(conn, states=(AgentState.RESERVED, AgentState.ON_CALL))
        return _Seen(calls, {r.status.agent_id: r for r in records})

    async def _free_stuck_agents(
        self, seen: _Seen, busy_agents: frozenset[str], at: float
    ) -> list[str]:
        """Step 1: end the reservation or call of each agent stuck without a channel (past
        the grace of :func:`acd.agents.reconcile`), with the wrap-up of its call's queue,
        and put that call back in line. An agent that moved on meanwhile is left alone."""
        statuses = [r.status for r in seen.agents.values()]
        repaired: list[str] = []
        for agent_id, event in reconcile_agents(statuses, busy_agents, at):
            call = seen.by_id.get(seen.agents[agent_id].status.current_call or "")
            if await self._free_agent(agent_id, event, call, at):
                seen.freed.add(agent_id)
                repaired.append(f"agent {agent_id}: {event}")
        return repaired

    async def _free_agent(
        self, agent_id: str, event: AgentEvent, call: CallRecord | None, at: float
    ) -> bool:
        """One agent of step 1, in one transaction; False if the event no longer applies."""
        wrap = self._agent_writes.wrap_up_s(call.queue if call is not None else None)
        with contextlib.suppress(TransitionError, StaleAgent):
            async with self._database.transaction(wake=True) as conn:
                await self._agent_writes.apply(conn, agent_id, event, at, wrap_up_seconds=wrap)
                if call is not None:
                    await self._release(conn, call, agent_id)
            return True
        return False

    async def _close_if_stale(
        self,
        call: CallRecord,
        seen: _Seen,
        busy_agents: frozenset[str],
        live_unique_ids: frozenset[str],
        at: float,
    ) -> str | None:
        """Step 2: close a caller's row nobody will move on: its channel is gone, or it is
        this instance's and no session holds its ticket. Not while it is younger than the
        grace (the row may be ahead of its channel), and not a talk whose agent is still on
        it: a talk is closed with its agent's repair, which needs the row for the queue's
        wrap-up."""
        orphan = call.instance == self._instance and call.id not in self._tickets
        gone = bool(call.unique_id) and call.unique_id not in live_unique_ids
        agent = call.reserved_agent
        talking = call.state == "answered" and (
            agent in busy_agents or (seen.holding.get(call.id) == agent and agent not in seen.freed)
        )
        if not (orphan or gone) or talking or at - call.call.entered_at < STUCK_GRACE:
            return None
        how = await self._close_stale(call, at, "no session" if orphan else "no channel")
        return f"call {call.id}: {how}"

    async def _close_stale(self, call: CallRecord, at: float, why: str) -> str:
        """Close a caller's row nobody holds: a talk that was under way is complete (its
        agent's channel is gone), anything else was abandoned."""
        ticket = self._tickets.pop(call.id, None)
        if ticket is not None:
            ticket.done = True
        talked = call.state == "answered"
        async with self._database.transaction(wake=True) as conn:
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
        self._dispatcher.forget(call.id)
        return "complete" if talked else "abandoned"

    async def _release_callback(self, call: CallRecord, seen: _Seen) -> str | None:
        """Step 3: a callback reserved for an agent whose row does not hold it goes back
        in line: the agent moved on (its reservation was cancelled, its call ended) and
        the callback's row was left behind."""
        agent = call.reserved_agent
        if not agent or seen.holding.get(call.id) == agent:
            return None
        async with self._database.transaction(wake=True) as conn:
            released = await self._release(conn, call, agent)
        return f"callback {call.id}: back in line" if released else None

    async def _release(self, conn: AsyncConnection, call: CallRecord, agent_id: str) -> bool:
        """Put a call offered to ``agent_id`` (or a callback it answered) back in line."""
        states = ("offered", "answered") if call.kind == "callback" else ("offered",)
        moved = await move_call(
            conn, call.id, states, if_agent=agent_id, state="waiting", reserved_agent=None
        )
        ticket = self._tickets.get(call.id)
        if moved and ticket is not None:
            ticket.take_back()
        return moved
