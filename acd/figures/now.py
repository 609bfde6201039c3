"""The queues and agents now, from the ACD's rows (``load_agents``, ``load_calls`` with
every state), whoever reads them: one definition of each figure.

Per queue:

- **waiting**: callers on the line who have no agent yet: waiting for one, or ringing one
  (``offered``). A callback is not a caller on the line: it is owed.
- **ringing**: of those, the callers whose agent's phone rings now.
- **callbacks** owed: callers who took a callback and have not been called back yet
  (waiting for their turn, or for the agent reserved for them to pick up).
- **talking**: calls an agent has picked up (callers, and callbacks being made).
- **longest wait**: how long the caller waiting longest has waited, from when it first
  queued (``entered_at``: a caller moved over from another queue keeps its wait); none
  while nobody waits.
- **agents** who can take the queue's calls, by state: the configured agents with every
  skill of the queue's requirements at its level (:func:`acd.routing.qualifies`), before
  any escalation step lets more agents in. They are the agents a call is offered to when
  it enters the queue, and the ones its estimated wait is shared among; counting the wider
  pools of later steps would hide a shortage of the skills the queue asks for. An agent
  with several skills counts in every queue they can take.

For the whole centre, **agents by state**: every agent of the store, by state.

The queues: every configured queue in the configuration's order, then, by name, any queue
no longer configured that still has calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from acd.config import AcdConfig, QueueSettings
from acd.routing import AgentView, qualifies
from acd.store.agent_rows import AgentRecord
from acd.store.call_rows import CallRecord
from acd.store.tables import AGENT_STATES, NOT_ANSWERED

__all__ = ["STATES", "QueueNow", "agents_by_state", "is_waiting", "longest_wait_s", "queues_now"]

STATES: tuple[str, ...] = AGENT_STATES  # every agent state, as the agents table spells it


@dataclass(frozen=True)
class QueueNow:
    """One queue's figures at the moment its rows were read."""

    name: str
    waiting: int
    ringing: int
    callbacks: int
    talking: int
    waiting_since: float | None  # epoch seconds the caller waiting longest first queued
    agents: dict[str, int]  # state -> agents who can take the queue's calls; every state

    def longest_wait_s(self, now: float) -> float | None:
        """The longest wait at ``now`` (epoch seconds)."""
        return longest_wait_s(self.waiting_since, now)


def is_waiting(call: CallRecord) -> bool:
    """A caller on the line with no agent yet (ringing one included)."""
    return call.kind == "caller" and call.state in NOT_ANSWERED


def longest_wait_s(waiting_since: float | None, now: float) -> float | None:
    """Seconds from ``waiting_since`` to ``now``, to a tenth; None when nobody waits."""
    if waiting_since is None:
        return None
    return round(max(0.0, now - waiting_since), 1)


def agents_by_state(records: Iterable[AgentRecord]) -> dict[str, int]:
    """State -> how many of these agents are in it; every state, zeros included."""
    counts = dict.fromkeys(STATES, 0)
    for record in records:
        counts[record.status.state.value] += 1
    return counts


def queues_now(
    config: AcdConfig, agents: Sequence[AgentRecord], calls: Sequence[CallRecord]
) -> tuple[QueueNow, ...]:
    """Every queue's figures from one read of the agents and the calls (every state)."""
    by_queue: dict[str, list[CallRecord]] = {name: [] for name in config.queues}
    for call in calls:
        by_queue.setdefault(call.queue, []).append(call)
    names = [*config.queues, *sorted(set(by_queue) - set(config.queues))]
    views = [
        (record, AgentView(configured.id, configured.skills))
        for record in agents
        if (configured := config.agents.get(record.status.agent_id)) is not None
    ]
    return tuple(_queue(name, config.queues.get(name), by_queue[name], views) for name in names)


def _queue(
    name: str,
    settings: QueueSettings | None,
    calls: list[CallRecord],
    views: list[tuple[AgentRecord, AgentView]],
) -> QueueNow:
    waiting = [call for call in calls if is_waiting(call)]
    able = (
        []
        if settings is None  # no longer configured: nobody is offered its calls
        else [record for record, view in views if qualifies(view, settings.routing.requirements)]
    )
    return QueueNow(
        name=name,
        waiting=len(waiting),
        ringing=sum(1 for call in waiting if call.state == "offered"),
        callbacks=sum(1 for c in calls if c.kind == "callback" and c.state in NOT_ANSWERED),
        talking=sum(1 for call in calls if call.state == "answered"),
        waiting_since=min((call.call.entered_at for call in waiting), default=None),
        agents=agents_by_state(able),
    )
