"""Repairs from the set of agents Asterisk has a channel for."""

from __future__ import annotations

from acd.agents import (
    STUCK_GRACE,
    AgentEvent,
    AgentState,
    AgentStatus,
    apply,
    due_wrap_ups,
    reconcile,
)
from tests.unit.acd.agents.support import T, in_state

E = AgentEvent
S = AgentState


def agent(agent_id: str, state: AgentState, since: float = T - 60) -> AgentStatus:
    return in_state(state, agent_id=agent_id, since=since)


def test_stuck_agents_without_a_channel_are_repaired() -> None:
    statuses = [
        agent("b-talking", S.ON_CALL),
        agent("a-ringing", S.RESERVED),
        agent("c-talking-for-real", S.ON_CALL),
        agent("d-ringing-for-real", S.RESERVED),
        agent("e-idle", S.AVAILABLE),
        agent("f-idle-on-a-private-call", S.AVAILABLE),
        agent("g-wrapping", S.WRAP_UP),
        agent("h-paused", S.PAUSED),
        agent("i-out", S.LOGGED_OUT),
    ]
    busy = {"c-talking-for-real", "d-ringing-for-real", "f-idle-on-a-private-call"}
    assert reconcile(statuses, busy, T) == [
        ("a-ringing", E.RESERVATION_CANCELLED),
        ("b-talking", E.CALL_END),
    ]


def test_nothing_to_do() -> None:
    assert reconcile([], set(), T) == []
    assert reconcile([agent("x", S.ON_CALL)], {"x"}, T) == []


def test_fresh_states_get_a_grace_period() -> None:
    just_reserved = agent("x", S.RESERVED, since=T - STUCK_GRACE + 1)
    assert reconcile([just_reserved], set(), T) == []
    assert reconcile([just_reserved], set(), T + 1) == [("x", E.RESERVATION_CANCELLED)]
    assert reconcile([just_reserved], set(), T, grace=0) == [("x", E.RESERVATION_CANCELLED)]


def test_the_repairs_apply_cleanly() -> None:
    ringing = agent("r", S.RESERVED)
    talking = agent("t", S.ON_CALL)
    for status, expected in [(ringing, S.AVAILABLE), (talking, S.WRAP_UP)]:
        ((agent_id, event),) = reconcile([status], frozenset(), T)
        after, _ = apply(status, event, T, wrap_up_seconds=15.0)
        assert (agent_id, after.state) == (status.agent_id, expected)
    assert apply(ringing, E.RESERVATION_CANCELLED, T)[0].missed_in_row == 0


def test_due_wrap_ups() -> None:
    statuses = [
        in_state(S.WRAP_UP, agent_id="late", wrap_up_until=T - 1),
        in_state(S.WRAP_UP, agent_id="on-time", wrap_up_until=T),
        in_state(S.WRAP_UP, agent_id="busy", wrap_up_until=T + 1),
        agent("idle", S.AVAILABLE),
    ]
    assert due_wrap_ups(statuses, T) == [
        ("late", E.WRAP_UP_EXPIRED),
        ("on-time", E.WRAP_UP_EXPIRED),
    ]
