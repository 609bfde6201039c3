"""One matching pass: which waiting calls get which free agents right now.

The calls are taken in the order the routing rules give them (highest priority in force,
then longest waiting, then call id) and each is offered the agent ``choose_agent`` picks
among the agents still free. So when one agent frees up, it goes to the best call it can
take across all its queues (``choose_call``'s rule), and when one call arrives, it gets
the best agent for it (``choose_agent``'s rule): the same decisions the specification in
:mod:`acd.routing.choose` makes, for any number of calls and agents at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from acd.routing import AgentView, QueueConfig, WaitingCall, choose_agent, effective

__all__ = ["call_order", "pair_up"]


def call_order(
    calls: Iterable[WaitingCall], queues: Mapping[str, QueueConfig], now: float
) -> list[WaitingCall]:
    """The calls of known queues, best first."""

    def key(call: WaitingCall) -> tuple[int, float, str]:
        _, priority = effective(call, queues[call.queue], now)
        return (-priority, call.entered_at, call.id)

    return sorted((c for c in calls if c.queue in queues), key=key)


def pair_up(
    calls: Iterable[WaitingCall],
    agents: Iterable[AgentView],
    queues: Mapping[str, QueueConfig],
    now: float,
    *,
    last_assigned: Mapping[str, str] | None = None,
    timed: Callable[[float], None] | None = None,
) -> list[tuple[WaitingCall, AgentView]]:
    """(call, agent) pairs to reserve now; each agent and each call at most once.

    ``timed`` is told the seconds each call's choice of agent took."""
    free = {agent.id: agent for agent in agents if agent.available}
    last = dict(last_assigned or {})
    pairs: list[tuple[WaitingCall, AgentView]] = []
    for call in call_order(calls, queues, now):
        if not free:
            break
        queue = queues[call.queue]
        started = time.perf_counter()
        agent = choose_agent(call, queue, free.values(), now, last_assigned=last.get(call.queue))
        if timed is not None:
            timed(time.perf_counter() - started)
        if agent is not None:
            pairs.append((call, agent))
            del free[agent.id]
            last[call.queue] = agent.id
    return pairs
