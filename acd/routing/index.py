"""In-memory indexes that answer ``choose_agent`` / ``choose_call`` fast at scale.

They give exactly the answers of ``acd.routing.choose`` (the specification; a property
test compares the two on random populations) but keep the data pre-sorted, so a decision
costs about a logarithm rather than a pass over every agent or every call.

``AgentIndex``: for each queue and each distinct set of requirements its escalation
stages use, the *available* member agents who qualify, grouped by match score; each group
is a list sorted by (strategy key, agent id). Choosing an agent reads the best non-empty
group and takes its first agent who has not declined the call. Updating an agent (it
becomes available or busy, its counters change) re-files it in every such group: the cost
moves from the decision to the update, which is the right trade at 10,000 agents.

``CallIndex``: for each queue and each escalation stage, the waiting calls in that stage
sorted by (-priority, entered_at, call id); a heap of the instants at which calls move to
their next stage. Choosing a call for an agent visits every (queue, stage) the agent
serves and qualifies for and takes the head of each list (skipping calls the agent
declined); the best of those heads wins. Calls move between stages lazily when a
decision asks with a later ``now``; asking with an earlier ``now`` than before re-sorts
every call (correct, just slower).

``match_all``: one whole matching pass (``acd.service.matching.pair_up``: the calls best
first, each given ``choose_agent``'s pick among the agents still free) over the two
indexes. It only looks at the (queue, stage) lists of waiting calls whose pool of free
qualified agents is not empty, so when calls wait only for skills nobody free has, a pass
costs a glance at each list, not a pass over every call and agent.

Both indexes copy nothing they are given: values are immutable, replace them with
``upsert``. Not thread-safe; one index per routing process.
"""

from __future__ import annotations

import heapq
import math
import time
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Iterator, Mapping

from acd.routing.choose import match_score, qualifies, strategy_key
from acd.routing.escalation import stage_at
from acd.routing.model import AgentView, QueueConfig, Requirements, WaitingCall

_AgentEntry = tuple[float, str]  # (strategy key, agent id)
_CallEntry = tuple[int, float, str]  # (-priority, entered_at, call id)


class _Pool:
    """The available member agents who meet one set of requirements, by match score."""

    __slots__ = ("requirements", "scores", "tiers")

    def __init__(self, requirements: Requirements) -> None:
        self.requirements = requirements
        self.tiers: dict[int, list[_AgentEntry]] = {}
        self.scores: list[int] = []  # the non-empty tiers, ascending

    def add(self, score: int, entry: _AgentEntry) -> None:
        tier = self.tiers.get(score)
        if tier is None:
            self.tiers[score] = [entry]
            insort(self.scores, score)
        else:
            insort(tier, entry)

    def discard(self, score: int, entry: _AgentEntry) -> None:
        tier = self.tiers[score]
        i = bisect_left(tier, entry)
        assert tier[i] == entry, "agent index out of step"
        del tier[i]
        if not tier:
            del self.tiers[score]
            self.scores.remove(score)


class _QueueAgents:
    __slots__ = ("by_stage", "pools", "queue")

    def __init__(self, queue: QueueConfig) -> None:
        self.queue = queue
        pools: dict[Requirements, _Pool] = {}
        self.by_stage = [
            pools.setdefault(s.requirements, _Pool(s.requirements)) for s in queue.stages
        ]
        self.pools = list(pools.values())

    def entry(self, agent: AgentView, pool: _Pool) -> tuple[int, _AgentEntry]:
        queue = self.queue
        score = 0 if queue.match == "any" else match_score(agent, pool.requirements)
        return score, (strategy_key(agent, queue.strategy), agent.id)

    def enter(self, agent: AgentView) -> None:
        for pool in self.pools:
            if qualifies(agent, pool.requirements):
                pool.add(*self.entry(agent, pool))

    def leave(self, agent: AgentView) -> None:
        for pool in self.pools:
            if qualifies(agent, pool.requirements):
                pool.discard(*self.entry(agent, pool))


class AgentIndex:
    """Agents filed for fast ``choose_agent``; same answers as ``choose.choose_agent``."""

    def __init__(self, queues: Iterable[QueueConfig] = (), agents: Iterable[AgentView] = ()):
        self._agents: dict[str, AgentView] = {}
        self._queues: dict[str, _QueueAgents] = {}
        for agent in agents:
            if agent.id in self._agents:
                raise ValueError(f"agent {agent.id!r} given twice")
            self._agents[agent.id] = agent
        for queue in queues:
            self.set_queue(queue)

    def __len__(self) -> int:
        return len(self._agents)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._agents

    def __iter__(self) -> Iterator[AgentView]:
        return iter(self._agents.values())

    def get(self, agent_id: str) -> AgentView | None:
        return self._agents.get(agent_id)

    def set_queue(self, queue: QueueConfig) -> None:
        """Add a queue or replace its configuration (re-files every agent for it)."""
        filed = _QueueAgents(queue)
        for agent in self._agents.values():
            if agent.available and agent.serves(queue.name):
                filed.enter(agent)
        self._queues[queue.name] = filed

    def remove_queue(self, name: str) -> None:
        del self._queues[name]

    def upsert(self, agent: AgentView) -> None:
        """Add an agent or replace its view (availability, idle time, counters, skills)."""
        old = self._agents.get(agent.id)
        if old is not None:
            self._file(old, leave=True)
        self._agents[agent.id] = agent
        self._file(agent, leave=False)

    def remove(self, agent_id: str) -> AgentView:
        agent = self._agents.pop(agent_id)
        self._file(agent, leave=True)
        return agent

    def _file(self, agent: AgentView, *, leave: bool) -> None:
        if not agent.available:
            return
        names: Iterable[str] = self._queues if agent.queues is None else agent.queues
        for name in names:
            filed = self._queues.get(name)
            if filed is not None:
                if leave:
                    filed.leave(agent)
                else:
                    filed.enter(agent)

    def choose_agent(
        self, call: WaitingCall, now: float, *, last_assigned: str | None = None
    ) -> AgentView | None:
        """The agent to offer ``call`` to at ``now`` (see ``choose.choose_agent``)."""
        filed = self._queues[call.queue]
        queue = filed.queue
        pool = filed.by_stage[stage_at(call, queue, now)]
        declined = call.declined_by
        scores = reversed(pool.scores) if queue.match == "most-skilled" else pool.scores
        after = last_assigned if queue.strategy == "round-robin" else None
        for score in scores:
            tier = pool.tiers[score]
            start = 0 if after is None else bisect_right(tier, (0.0, after))
            for i in range(start, start + len(tier)):
                agent_id = tier[i % len(tier)][1]
                if agent_id not in declined:
                    return self._agents[agent_id]
        return None


class _QueueCalls:
    __slots__ = ("by_stage", "queue", "stage_of")

    def __init__(self, queue: QueueConfig) -> None:
        self.queue = queue
        self.by_stage: list[list[_CallEntry]] = [[] for _ in queue.stages]
        self.stage_of: dict[str, int] = {}


def _call_entry(call: WaitingCall) -> _CallEntry:
    return (-call.priority, call.entered_at, call.id)


class CallIndex:
    """Waiting calls filed for fast ``choose_call``; same answers as ``choose.choose_call``."""

    def __init__(self, queues: Iterable[QueueConfig] = (), calls: Iterable[WaitingCall] = ()):
        self._calls: dict[str, WaitingCall] = {}
        self._queues: dict[str, _QueueCalls] = {}
        self._timers: list[tuple[float, str]] = []  # (next stage change, call id), lazy
        self._next_at: dict[str, float] = {}  # the live timer of each call
        self._now = -math.inf  # the latest instant calls have been staged for
        for queue in queues:
            self.set_queue(queue)
        for call in calls:
            self.add(call)

    def __len__(self) -> int:
        return len(self._calls)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._calls

    def __iter__(self) -> Iterator[WaitingCall]:
        return iter(self._calls.values())

    def get(self, call_id: str) -> WaitingCall | None:
        return self._calls.get(call_id)

    def set_queue(self, queue: QueueConfig) -> None:
        """Add a queue or replace its configuration (re-stages the calls waiting in it)."""
        filed = _QueueCalls(queue)
        self._queues[queue.name] = filed
        for call in self._calls.values():
            if call.queue == queue.name:
                self._place(filed, call)

    def remove_queue(self, name: str) -> None:
        if self._queues[name].stage_of:
            raise ValueError(f"calls are still waiting in queue {name!r}")
        del self._queues[name]

    def add(self, call: WaitingCall) -> None:
        if call.id in self._calls:
            raise ValueError(f"call {call.id!r} is already waiting")
        filed = self._queues[call.queue]
        self._calls[call.id] = call
        self._place(filed, call)

    def upsert(self, call: WaitingCall) -> None:
        """Add a call or replace it (new priority, a missed ring, an overflow)."""
        if call.id in self._calls:
            self.remove(call.id)
        self.add(call)

    def remove(self, call_id: str) -> WaitingCall:
        call = self._calls.pop(call_id)
        filed = self._queues[call.queue]
        entries = filed.by_stage[filed.stage_of.pop(call_id)]
        del entries[bisect_left(entries, _call_entry(call))]
        self._next_at.pop(call_id, None)
        return call

    def _place(self, filed: _QueueCalls, call: WaitingCall) -> None:
        """File ``call`` in its stage at ``self._now`` and set its timer."""
        stage = stage_at(call, filed.queue, self._now)
        old = filed.stage_of.get(call.id)
        if old != stage:
            entry = _call_entry(call)
            if old is not None:
                entries = filed.by_stage[old]
                del entries[bisect_left(entries, entry)]
            insort(filed.by_stage[stage], entry)
            filed.stage_of[call.id] = stage
        steps = filed.queue.escalation
        if stage < len(steps):
            at = call.in_queue_since + steps[stage].after
            self._next_at[call.id] = at
            heapq.heappush(self._timers, (at, call.id))
        else:
            self._next_at.pop(call.id, None)

    def _advance(self, now: float) -> None:
        if now < self._now:  # time went back: stage everything afresh
            self._now = now
            self._timers, self._next_at = [], {}
            for call in self._calls.values():
                self._place(self._queues[call.queue], call)
            return
        self._now = now
        timers = self._timers
        while timers and timers[0][0] <= now:
            at, call_id = heapq.heappop(timers)
            if self._next_at.get(call_id) == at:
                call = self._calls[call_id]
                self._place(self._queues[call.queue], call)

    def choose_call(self, agent: AgentView, now: float) -> WaitingCall | None:
        """The waiting call to offer ``agent`` at ``now`` (see ``choose.choose_call``)."""
        self._advance(now)
        if not agent.available:
            return None
        names: Iterable[str] = self._queues if agent.queues is None else agent.queues
        best: _CallEntry | None = None
        for name in names:
            filed = self._queues.get(name)
            if filed is None or not filed.stage_of:
                continue
            for stage, entries in zip(filed.queue.stages, filed.by_stage, strict=True):
                if not entries or not qualifies(agent, stage.requirements):
                    continue
                for neg_priority, entered_at, call_id in entries:
                    if agent.id not in self._calls[call_id].declined_by:
                        key = (neg_priority - stage.priority_boost, entered_at, call_id)
                        if best is None or key < best:
                            best = key
                        break
        return None if best is None else self._calls[best[2]]


def match_all(
    calls: CallIndex,
    agents: AgentIndex,
    now: float,
    *,
    last_assigned: Mapping[str, str] | None = None,
    timed: Callable[[float], None] | None = None,
) -> list[tuple[WaitingCall, AgentView]]:
    """The (call, agent) pairs of one matching pass at ``now``: exactly those of
    ``acd.service.matching.pair_up`` over the same calls and free agents.

    The pairs are taken out of the indexes (agents removed from ``agents``, calls from
    ``calls``); whoever reserves them puts back what it could not reserve. ``timed`` is
    told the seconds each choice of an agent took."""
    calls._advance(now)
    last = dict(last_assigned or {})
    # One list per (queue, stage) whose free pool is not empty: its calls are in the order
    # of the rules, and a stage's boost is the same for its whole list, so merging the
    # lists by (priority in force, entered_at, id) gives the calls best first.
    lists: list[tuple[list[_CallEntry], _Pool, str, int]] = []
    heads: list[tuple[_CallEntry, int, int]] = []  # (key in force, list, position)
    for name, filed in calls._queues.items():
        free = agents._queues.get(name)
        if free is None or not filed.stage_of:
            continue
        for stage, entries, pool in zip(
            filed.queue.stages, filed.by_stage, free.by_stage, strict=True
        ):
            if entries and pool.scores:
                neg, entered_at, call_id = entries[0]
                boost = stage.priority_boost
                heads.append(((neg - boost, entered_at, call_id), len(lists), 0))
                lists.append((entries, pool, name, boost))
    heapq.heapify(heads)
    pairs: list[tuple[WaitingCall, AgentView]] = []
    while heads:
        (_, _, call_id), which, position = heapq.heappop(heads)
        entries, pool, name, boost = lists[which]
        if not pool.scores:  # its agents all went to better calls: drop the list
            continue
        call = calls._calls[call_id]
        started = time.perf_counter()
        agent = agents.choose_agent(call, now, last_assigned=last.get(name))
        if timed is not None:
            timed(time.perf_counter() - started)
        if agent is not None:
            pairs.append((call, agent))
            agents.remove(agent.id)
            last[name] = agent.id
        position += 1
        if position < len(entries):
            neg, entered_at, call_id = entries[position]
            heapq.heappush(heads, ((neg - boost, entered_at, call_id), which, position))
    for call, _ in pairs:
        calls.remove(call.id)
    return pairs
