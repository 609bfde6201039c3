"""Supervisor forces: at once when idle, after the call when on one, and above the agent."""

from __future__ import annotations

import pytest

from acd.agents import (
    SUPERVISOR,
    AgentEvent,
    AgentState,
    PauseReasonError,
    Pending,
    PendingKind,
    StateChange,
    TransitionError,
    apply,
)
from tests.unit.acd.agents.support import AGENT, T, in_state, run

E = AgentEvent
S = AgentState
FORCED_OUT = Pending(PendingKind.LOG_OUT, SUPERVISOR, forced=True)
FORCED_PAUSE = Pending(PendingKind.PAUSE, SUPERVISOR, forced=True)
IDLE = [S.AVAILABLE, S.WRAP_UP, S.PAUSED]


@pytest.mark.parametrize("state", IDLE)
def test_force_logout_at_once(state: AgentState) -> None:
    after, change = apply(in_state(state), E.SUPERVISOR_FORCE_LOGOUT, T)
    assert (after.state, after.since, after.wrap_up_until) == (S.LOGGED_OUT, T, None)
    assert change == StateChange(
        AGENT, state, S.LOGGED_OUT, E.SUPERVISOR_FORCE_LOGOUT, SUPERVISOR, T
    )


@pytest.mark.parametrize("state", IDLE)
def test_force_pause_at_once(state: AgentState) -> None:
    after, change = apply(in_state(state), E.SUPERVISOR_FORCE_PAUSE, T)
    assert (after.state, after.pause_reason, change.reason) == (S.PAUSED, SUPERVISOR, SUPERVISOR)


def test_force_pause_with_any_configured_reason() -> None:
    assert run(in_state(S.AVAILABLE), E.SUPERVISOR_FORCE_PAUSE, reason="training").pause_reason == (
        "training"
    )
    assert run(in_state(S.AVAILABLE), E.SUPERVISOR_FORCE_PAUSE, reason="missed-calls").state is (
        S.PAUSED
    )
    with pytest.raises(PauseReasonError, match="'nap'"):
        apply(in_state(S.AVAILABLE), E.SUPERVISOR_FORCE_PAUSE, T, reason="nap")
    with pytest.raises(TransitionError, match=r"already paused \(supervisor\)"):
        run(in_state(S.AVAILABLE), E.SUPERVISOR_FORCE_PAUSE, E.SUPERVISOR_FORCE_PAUSE)


@pytest.mark.parametrize("state", [S.RESERVED, S.ON_CALL])
def test_during_a_call_the_call_continues(state: AgentState) -> None:
    after, change = apply(in_state(state), E.SUPERVISOR_FORCE_LOGOUT, T)
    assert after == in_state(state, pending=FORCED_OUT)
    assert (change.from_state, change.to_state, change.reason) == (state, state, SUPERVISOR)


def test_forced_state_applies_when_the_call_ends_skipping_wrap_up() -> None:
    talking = run(in_state(S.RESERVED), E.SUPERVISOR_FORCE_PAUSE, E.ANSWER)
    assert talking.pending == FORCED_PAUSE
    after, change = apply(talking, E.CALL_END, T + 60, wrap_up_seconds=30.0)
    assert (after.state, after.pause_reason, after.wrap_up_until) == (S.PAUSED, SUPERVISOR, None)
    assert (after.calls_today, after.last_call_end) == (1, T + 60)
    assert change == StateChange(AGENT, S.ON_CALL, S.PAUSED, E.CALL_END, SUPERVISOR, T + 60)


def test_forced_logout_applies_when_the_ringing_stops() -> None:
    after = run(in_state(S.RESERVED, pending=FORCED_OUT), E.RING_NO_ANSWER)
    assert after.state is S.LOGGED_OUT


@pytest.mark.parametrize("event", [E.LOG_OUT, E.PAUSE])
def test_the_agent_cannot_replace_a_forced_request(event: AgentEvent) -> None:
    talking = in_state(S.ON_CALL, pending=FORCED_OUT)
    with pytest.raises(TransitionError, match="a supervisor's log-out is pending"):
        apply(talking, event, T)


def test_a_supervisor_replaces_any_pending_request() -> None:
    talking = run(in_state(S.ON_CALL), E.LOG_OUT, E.SUPERVISOR_FORCE_PAUSE)
    assert talking.pending == FORCED_PAUSE
    talking = run(talking, E.SUPERVISOR_FORCE_LOGOUT)
    assert talking.pending == FORCED_OUT


def test_the_agent_may_resume_from_a_supervisor_pause() -> None:
    paused = run(in_state(S.AVAILABLE), E.SUPERVISOR_FORCE_PAUSE)
    assert run(paused, E.READY).state is S.AVAILABLE
