"""The routing rules, written as plainly as possible: this module is the specification.

Eligibility. An agent is eligible for a waiting call when the agent is available, is a
member of the call's queue, has not already let this call ring out (``declined_by``) and
has every skill the call currently requires (see ``escalation``) at or above its minimum
level.

Choosing an agent for a call (a call arrives, or its requirements relax):

1. Keep the eligible agents.
2. Proficiency match, per queue (``QueueConfig.match``). The match score of an agent is
   the sum of its levels on the skills the call requires (for one call the minimums are
   fixed, so this ranks agents exactly as their surplus over the minimums does).

   - ``closest-fit`` (default): lowest score, the agent who just meets the needs. Experts
     stay free for the calls only they can take; sending easy calls to experts under load
     strands the hard and VIP callers who need them, and service level drops.
   - ``most-skilled``: highest score, the best agent for this caller regardless (a VIP
     queue that wants quality over throughput).
   - ``any``: no ranking by skill, only the strategy below.
3. Strategy among the agents left (``QueueConfig.strategy``):

   - ``longest-idle`` (default): the agent available since the earliest ``idle_since``;
   - ``least-calls``: the agent with the fewest ``calls_today``;
   - ``round-robin``: in agent-id order, the first agent after ``last_assigned`` (the last
     agent this queue was given to), wrapping round to the first.
4. Final tie-break: the smallest agent id.

Choosing a call for an agent (the agent becomes available): among the waiting calls the
agent is eligible for, in every queue the agent is a member of, the highest priority in
force (own priority plus escalation boosts), then the longest waiting (earliest
``entered_at``, so overflowed and re-offered calls keep their place), then the smallest
call id.

A missed ring: the caller keeps ``entered_at`` and gains the agent in ``declined_by``;
re-running ``choose_agent`` offers the call to the next best agent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from acd.routing.escalation import effective
from acd.routing.model import AgentView, QueueConfig, Requirements, Strategy, WaitingCall


def qualifies(agent: AgentView, requirements: Requirements) -> bool:
    """The agent has every required skill at or above its minimum level."""
    skills = agent.skills
    return all(skills.get(r.skill, 0) >= r.min_level for r in requirements)


def match_score(agent: AgentView, requirements: Requirements) -> int:
    """The sum of the agent's levels on the required skills."""
    skills = agent.skills
    return sum(skills.get(r.skill, 0) for r in requirements)


def strategy_key(agent: AgentView, strategy: Strategy) -> float:
    """The strategy's ordering value (smaller goes first; round-robin orders by id alone)."""
    if strategy == "longest-idle":
        return agent.idle_since
    if strategy == "least-calls":
        return agent.calls_today
    return 0.0


def eligible(agent: AgentView, call: WaitingCall, queue: QueueConfig, now: float) -> bool:
    """May ``agent`` be offered ``call`` (waiting in ``queue``) at ``now``?"""
    if not agent.available or not agent.serves(call.queue) or agent.id in call.declined_by:
        return False
    requirements, _ = effective(call, queue, now)
    return qualifies(agent, requirements)


def choose_agent(
    call: WaitingCall,
    queue: QueueConfig,
    agents: Iterable[AgentView],
    now: float,
    *,
    last_assigned: str | None = None,
) -> AgentView | None:
    """The agent to offer ``call`` to at ``now``, or None when nobody is eligible."""
    requirements, _ = effective(call, queue, now)
    candidates = [a for a in agents if eligible(a, call, queue, now)]
    if not candidates:
        return None
    if queue.match != "any":
        scores = [match_score(a, requirements) for a in candidates]
        best = min(scores) if queue.match == "closest-fit" else max(scores)
        candidates = [a for a, s in zip(candidates, scores, strict=True) if s == best]
    if queue.strategy == "round-robin":
        candidates.sort(key=lambda a: a.id)
        after = [a for a in candidates if last_assigned is not None and a.id > last_assigned]
        return (after or candidates)[0]
    return min(candidates, key=lambda a: (strategy_key(a, queue.strategy), a.id))


def choose_call(
    agent: AgentView,
    calls: Iterable[WaitingCall],
    queues: Mapping[str, QueueConfig],
    now: float,
) -> WaitingCall | None:
    """The waiting call to offer ``agent`` at ``now``, or None when none fits."""
    best: WaitingCall | None = None
    best_key: tuple[int, float, str] | None = None
    for call in calls:
        queue = queues[call.queue]
        if not eligible(agent, call, queue, now):
            continue
        _, priority = effective(call, queue, now)
        key = (-priority, call.entered_at, call.id)
        if best_key is None or key < best_key:
            best, best_key = call, key
    return best
