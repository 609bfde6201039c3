"""Repair agent states the store got wrong, from what Asterisk says is really going on.

Events get lost: the engine restarts during a call, an AMI session drops a hangup. Then
the store believes an agent is still ``reserved`` or ``on-call`` though no channel of
that agent exists any more, and the agent would never get a call again. The service
periodically asks Asterisk which agents have a channel (ringing or talking: ``busy``) and
calls :func:`reconcile`, which returns the events that set things right:

- ``reserved`` with no channel -> ``reservation_cancelled``: back to available (or to
  what is pending); no missed call is counted, since nobody knows whether it rang out.
- ``on-call`` with no channel -> ``call_end``: exactly as if the hangup had been heard.
  The call is counted, the service passes the queue's wrap-up time as for any call end
  (wrap-up then runs from now), and a pending pause or log-out applies.

An agent who entered its state less than ``grace`` seconds ago is left alone: the store
may be ahead of Asterisk (reserved, the channel not dialled yet) or behind (the hangup
event is on its way). Agents in other states are never touched: an available agent on a
channel the ACD did not route (a private call) is the router's concern, which skips busy
agents. The result is sorted by agent id; apply each with :func:`acd.agents.apply`.

:func:`due_wrap_ups` is the same kind of sweep for wrap-up timers that did not fire.
"""

from __future__ import annotations

from collections.abc import Iterable, Set

from acd.agents.machine import AgentStatus
from acd.agents.states import AgentEvent, AgentState

__all__ = ["STUCK_GRACE", "due_wrap_ups", "reconcile"]

STUCK_GRACE = 10.0

_REPAIR = {
    AgentState.RESERVED: AgentEvent.RESERVATION_CANCELLED,
    AgentState.ON_CALL: AgentEvent.CALL_END,
}


def reconcile(
    statuses: Iterable[AgentStatus],
    busy_agents: Set[str],
    now: float,
    *,
    grace: float = STUCK_GRACE,
) -> list[tuple[str, AgentEvent]]:
    """Corrective events for agents stuck reserved or on-call without a channel."""
    return sorted(
        (status.agent_id, _REPAIR[status.state])
        for status in statuses
        if status.state in _REPAIR
        and status.agent_id not in busy_agents
        and now - status.since >= grace
    )


def due_wrap_ups(statuses: Iterable[AgentStatus], now: float) -> list[tuple[str, AgentEvent]]:
    """``wrap_up_expired`` for every agent whose wrap-up deadline has passed."""
    return sorted(
        (status.agent_id, AgentEvent.WRAP_UP_EXPIRED)
        for status in statuses
        if status.state is AgentState.WRAP_UP
        and (status.wrap_up_until is None or status.wrap_up_until <= now)
    )
