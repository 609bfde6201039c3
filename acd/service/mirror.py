"""What one ACD instance knows of the agents and the waiting calls, between passes.

The :class:`Mirror` keeps the routing indexes (:class:`acd.routing.AgentIndex` of the free
agents, :class:`acd.routing.CallIndex` of the routable waiting calls) and the rows they
were made from. It is only ever a *view* of the database: each matching pass first reads
the rows changed since the last pass (the change feed, :mod:`acd.store.changes`), and every
reservation is still checked against the rows themselves, locked, before it is written.
So a mirror that is behind costs a retry, never a wrong reservation.

- The first pass (and the first after :meth:`Mirror.reload`) reads everything: agents,
  skills, waiting calls.
- Later passes read the agent and call rows marked since the feed position of the last
  read, and rows named in :meth:`Mirror.recheck` (what this instance deleted, or could
  not reserve, or wrote in a transaction that was rolled back); every skill again only
  when the feed's skills counter moved (the configuration changed them).
- What changes with time alone is looked after here too: callbacks become due
  (``not_before``), wrap-ups end, escalation steps come into force (the call index stages
  calls itself; the mirror only remembers when to wake up), device states make agents
  unfit or fit again, the callback window opens and closes.

A free agent is filed as available when its row is ``available`` and its phone is fit; a
waiting call is routable when its queue is configured, it is due, and it is a caller, or
a callback while the window is open.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from acd.agents import AgentState
from acd.routing import AgentIndex, AgentView, CallIndex, QueueConfig, next_change_at
from acd.store.agent_rows import AgentRecord, load_agents, load_skills
from acd.store.call_rows import CallRecord, load_calls
from acd.store.changes import feed_position

__all__ = ["Mirror"]


def _wrap_up_end(record: AgentRecord) -> float:
    """When the agent's wrap-up ends; a wrap-up without an end is over at once."""
    until = record.status.wrap_up_until
    return -math.inf if until is None else until


class Mirror:
    def __init__(self, queues: Mapping[str, QueueConfig]) -> None:
        self.queues = dict(queues)
        self.loaded = False
        self.position = 0  # where the next read of the feed starts
        self.skills_counter = 0  # the feed's skills counter when skills were last read
        self.agents: dict[str, AgentRecord] = {}
        self.skills: dict[str, dict[str, int]] = {}
        self.calls: dict[str, CallRecord] = {}  # every waiting row known, routable or not
        self.free = AgentIndex(self.queues.values())
        self.routable = CallIndex(self.queues.values())
        self.unfit: frozenset[str] = frozenset()
        self.window_open = True
        self.now = 0.0
        self._recheck_agents: set[str] = set()
        self._recheck_calls: set[str] = set()
        # Lazy timers (stale entries are skipped): (when, id).
        self._wrap_ups: list[tuple[float, str]] = []
        self._not_before: list[tuple[float, str]] = []
        self._steps: list[tuple[float, str]] = []

    # -- reading ------------------------------------------------------------------------
    def reload(self) -> None:
        """Read everything again at the next refresh."""
        self.loaded = False

    def recheck(self, agents: Iterable[str] = (), calls: Iterable[str] = ()) -> None:
        """Read these rows again at the next refresh, changed or not (a row that is gone
        is forgotten)."""
        self._recheck_agents.update(agents)
        self._recheck_calls.update(calls)

    async def refresh(
        self, conn: AsyncConnection, now: float, unfit: frozenset[str], window_open: bool
    ) -> None:
        """Bring the mirror up to date with the database and the clock."""
        self.now = now
        if not self.loaded:
            await self._load_all(conn)
        else:
            await self._load_changes(conn)
        self._set_unfit(unfit)
        self._set_window(window_open)
        self._callbacks_due(now)

    async def _load_all(self, conn: AsyncConnection) -> None:
        position = await feed_position(conn)
        agents = await load_agents(conn)
        skills = await load_skills(conn)
        calls = await load_calls(conn, state="waiting")
        self.skills_counter = position.skills
        self.agents, self.skills, self.calls = {}, skills, {}
        self.free = AgentIndex(self.queues.values())
        self.routable = CallIndex(self.queues.values())
        self._wrap_ups, self._not_before, self._steps = [], [], []
        self._recheck_agents.clear()
        self._recheck_calls.clear()
        for record in agents:
            self.apply_agent(record)
        for call in calls:
            self.apply_call(call)
        self.position = position.marks
        self.loaded = True

    async def _load_changes(self, conn: AsyncConnection) -> None:
        position = await feed_position(conn)
        agents = await load_agents(conn, changed_since=self.position)
        calls = await load_calls(conn, state=None, changed_since=self.position)
        agent_ids = {r.status.agent_id for r in agents}
        call_ids = {c.id for c in calls}
        extra_agents = self._recheck_agents - agent_ids
        extra_calls = self._recheck_calls - call_ids
        self._recheck_agents, self._recheck_calls = set(), set()
        if extra_agents:
            agents += await load_agents(conn, ids=extra_agents)
        if extra_calls:
            found_calls = await load_calls(conn, state=None, ids=extra_calls)
            calls += found_calls
            for gone in extra_calls - {c.id for c in found_calls}:
                self.forget_call(gone)
        if position.skills != self.skills_counter:  # the configuration changed skills
            self.skills = await load_skills(conn)
            self.skills_counter = position.skills
            for agent_id in list(self.agents):
                self._file_agent(agent_id)
        for record in agents:
            self.apply_agent(record)
        for call in calls:
            self.apply_call(call)
        self.position = position.marks

    # -- applying rows ------------------------------------------------------------------
    def apply_agent(self, record: AgentRecord) -> None:
        """An agent's row as read or as just written by this instance."""
        status = record.status
        self.agents[status.agent_id] = record
        if status.state is AgentState.WRAP_UP:
            heapq.heappush(self._wrap_ups, (_wrap_up_end(record), status.agent_id))
        self._file_agent(status.agent_id)

    def apply_call(self, record: CallRecord) -> None:
        """A call's row as read: a waiting row is kept, any other state forgotten."""
        if record.state != "waiting":
            self.forget_call(record.id)
            return
        self.calls[record.id] = record
        if record.not_before is not None and record.not_before > self.now:
            heapq.heappush(self._not_before, (record.not_before, record.id))
        self._file_call(record.id)

    def forget_call(self, call_id: str) -> None:
        """The call is no longer waiting (offered, answered, gone)."""
        self.calls.pop(call_id, None)
        if call_id in self.routable:
            self.routable.remove(call_id)

    def _file_agent(self, agent_id: str) -> None:
        record = self.agents.get(agent_id)
        filed = self.free.get(agent_id)
        if (
            record is None
            or record.status.state is not AgentState.AVAILABLE
            or agent_id in self.unfit
        ):
            if filed is not None:
                self.free.remove(agent_id)
            return
        view = AgentView(
            agent_id,
            self.skills.get(agent_id, {}),
            idle_since=record.idle_since,
            calls_today=record.status.calls_today,
        )
        if view != filed:
            self.free.upsert(view)

    def _file_call(self, call_id: str) -> None:
        record = self.calls.get(call_id)
        filed = self.routable.get(call_id)
        if record is None or not self._routable(record):
            if filed is not None:
                self.routable.remove(call_id)
            return
        if record.call != filed:
            self.routable.upsert(record.call)
            when = next_change_at(record.call, self.queues[record.queue], self.now)
            if when is not None:
                heapq.heappush(self._steps, (when, call_id))

    def _routable(self, record: CallRecord) -> bool:
        return (
            record.queue in self.queues
            and (record.not_before is None or record.not_before <= self.now)
            and (record.kind == "caller" or self.window_open)
        )

    # -- what changes with time and with the phones -------------------------------------
    def _set_unfit(self, unfit: frozenset[str]) -> None:
        if unfit != self.unfit:
            changed = unfit ^ self.unfit
            self.unfit = unfit
            for agent_id in changed:
                self._file_agent(agent_id)

    def _set_window(self, window_open: bool) -> None:
        if window_open != self.window_open:
            self.window_open = window_open
            for record in list(self.calls.values()):
                if record.kind == "callback":
                    self._file_call(record.id)

    def _callbacks_due(self, now: float) -> None:
        timers = self._not_before
        while timers and timers[0][0] <= now:
            _, call_id = heapq.heappop(timers)
            self._file_call(call_id)

    def wrap_ups_due(self, now: float) -> list[str]:
        """The agents whose wrap-up has ended by ``now``, as far as this mirror knows."""
        due: list[str] = []
        timers = self._wrap_ups
        while timers and timers[0][0] <= now:
            until, agent_id = heapq.heappop(timers)
            record = self.agents.get(agent_id)
            if (
                record is not None
                and record.status.state is AgentState.WRAP_UP
                and _wrap_up_end(record) == until
                and agent_id not in due
            ):
                due.append(agent_id)
        return sorted(due)

    def next_at(self, now: float) -> float | None:
        """When the next wrap-up ends, callback falls due or escalation step (or maximum
        wait) comes for a call this mirror knows; None if nothing is ahead."""
        while self._wrap_ups and not self._wrap_up_live(*self._wrap_ups[0], now):
            heapq.heappop(self._wrap_ups)
        while self._not_before and not self._not_before_live(*self._not_before[0], now):
            heapq.heappop(self._not_before)
        steps = self._steps
        while steps and (steps[0][0] <= now or steps[0][1] not in self.routable):
            _, call_id = heapq.heappop(steps)
            record = self.calls.get(call_id)
            if record is not None and call_id in self.routable:
                when = next_change_at(record.call, self.queues[record.queue], now)
                if when is not None:
                    heapq.heappush(steps, (when, call_id))
        heads = [t[0][0] for t in (self._wrap_ups, self._not_before, steps) if t]
        return min(heads, default=None)

    def _wrap_up_live(self, until: float, agent_id: str, now: float) -> bool:
        record = self.agents.get(agent_id)
        return (
            until > now
            and record is not None
            and record.status.state is AgentState.WRAP_UP
            and _wrap_up_end(record) == until
        )

    def _not_before_live(self, when: float, call_id: str, now: float) -> bool:
        record = self.calls.get(call_id)
        return when > now and record is not None and record.not_before == when

    def refile(self, agents: Iterable[str] = (), calls: Iterable[str] = ()) -> None:
        """File these agents and calls again from the rows the mirror holds (after a
        matching pass took them out and could not reserve them)."""
        for agent_id in agents:
            self._file_agent(agent_id)
        for call_id in calls:
            self._file_call(call_id)

    def hold_out(self, agents: Iterable[str] = (), calls: Iterable[str] = ()) -> None:
        """Leave these out of the indexes until they are read again (rows another
        instance holds locked)."""
        for agent_id in agents:
            if agent_id in self.free:
                self.free.remove(agent_id)
        for call_id in calls:
            if call_id in self.routable:
                self.routable.remove(call_id)
        self.recheck(agents, calls)

    def forget_agent(self, agent_id: str) -> None:
        self.agents.pop(agent_id, None)
        if agent_id in self.free:
            self.free.remove(agent_id)

    def endpoint(self, agent_id: str) -> str:
        record = self.agents.get(agent_id)
        return (record.endpoint if record is not None else "") or f"PJSIP/{agent_id}"
