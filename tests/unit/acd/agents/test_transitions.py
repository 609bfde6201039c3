"""Each allowed transition: the fields it sets and the state log entry it writes."""

from __future__ import annotations

import pytest

from acd.agents import (
    AgentEvent,
    AgentPolicy,
    AgentState,
    AgentStatus,
    PauseReasonError,
    StateChange,
    TransitionError,
    apply,
)
from tests.unit.acd.agents.support import AGENT, CALL, T, in_state, run

E = AgentEvent
S = AgentState


def test_a_new_agent_is_logged_out() -> None:
    agent = AgentStatus("1002")
    assert (agent.state, agent.since, agent.pending, agent.calls_today) == (
        S.LOGGED_OUT,
        0,
        None,
        0,
    )
    assert not agent.accepts_calls
    with pytest.raises(ValueError, match="needs an id"):
        AgentStatus("")


def test_log_in_starts_fresh_and_keeps_the_day_count() -> None:
    before = in_state(S.LOGGED_OUT, missed_in_row=1, calls_today=4, last_call_end=T - 500)
    after, change = apply(before, E.LOG_IN, T)
    assert after == AgentStatus(AGENT, S.AVAILABLE, since=T, calls_today=4, last_call_end=T - 500)
    assert after.accepts_calls
    assert change == StateChange(AGENT, S.LOGGED_OUT, S.AVAILABLE, E.LOG_IN, None, T)


def test_log_in_paused_when_configured() -> None:
    policy = AgentPolicy(log_in_paused="meeting")
    after, change = apply(in_state(S.LOGGED_OUT), E.LOG_IN, T, policy=policy)
    assert (after.state, after.pause_reason, after.since) == (S.PAUSED, "meeting", T)
    assert change.reason == "meeting"
    assert run(after, E.READY).state is S.AVAILABLE


@pytest.mark.parametrize("state", [S.AVAILABLE, S.PAUSED, S.WRAP_UP])
def test_log_out_clears_everything_of_the_session(state: AgentState) -> None:
    after, change = apply(in_state(state), E.LOG_OUT, T)
    assert (after.state, after.pause_reason, after.current_call, after.wrap_up_until) == (
        S.LOGGED_OUT,
        None,
        None,
        None,
    )
    assert (change.to_state, change.reason) == (S.LOGGED_OUT, None)


def test_pause_with_the_default_or_a_chosen_reason() -> None:
    after, change = apply(in_state(S.AVAILABLE), E.PAUSE, T)
    assert (after.state, after.pause_reason, change.reason) == (S.PAUSED, "break", "break")
    assert run(in_state(S.AVAILABLE), E.PAUSE, reason="training").pause_reason == "training"
    policy = AgentPolicy(default_pause_reason="lunch")
    assert run(in_state(S.AVAILABLE), E.PAUSE, policy=policy).pause_reason == "lunch"


def test_pause_reason_change_moves_since_but_the_same_reason_is_refused() -> None:
    lunch, change = apply(in_state(S.PAUSED), E.PAUSE, T, reason="lunch")
    assert (lunch.pause_reason, lunch.since, change.from_state, change.to_state) == (
        "lunch",
        T,
        S.PAUSED,
        S.PAUSED,
    )
    with pytest.raises(TransitionError, match=r"already paused \(lunch\)"):
        apply(lunch, E.PAUSE, T + 1, reason="lunch")


@pytest.mark.parametrize("reason", ["nap", "missed-calls", "supervisor"])
def test_agents_cannot_pause_with_unknown_or_built_in_reasons(reason: str) -> None:
    with pytest.raises(PauseReasonError, match=repr(reason)):
        apply(in_state(S.AVAILABLE), E.PAUSE, T, reason=reason)


def test_ready_ends_a_pause() -> None:
    after, change = apply(in_state(S.PAUSED), "resume", T)
    assert (after.state, after.pause_reason, after.since) == (S.AVAILABLE, None, T)
    assert change.event is E.READY


def test_a_call_from_offer_to_hang_up() -> None:
    reserved, offered = apply(in_state(S.AVAILABLE), E.RESERVE, T, call_id="c9")
    assert (reserved.state, reserved.current_call, offered.reason) == (S.RESERVED, "c9", None)
    talking = run(reserved, E.ANSWER, at=T + 4, call_id="c9")
    assert (talking.state, talking.since, talking.current_call) == (S.ON_CALL, T + 4, "c9")
    ended, change = apply(talking, E.CALL_END, T + 100, call_id="c9")
    assert ended == AgentStatus(
        AGENT, S.AVAILABLE, since=T + 100, last_call_end=T + 100, calls_today=1
    )
    assert change == StateChange(AGENT, S.ON_CALL, S.AVAILABLE, E.CALL_END, None, T + 100)


def test_reserve_needs_a_call_id() -> None:
    with pytest.raises(ValueError, match="reserve needs a call_id"):
        apply(in_state(S.AVAILABLE), E.RESERVE, T)


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (S.RESERVED, E.ANSWER),
        (S.RESERVED, E.RING_NO_ANSWER),
        (S.RESERVED, E.RESERVATION_CANCELLED),
        (S.ON_CALL, E.CALL_END),
    ],
)
def test_events_for_another_call_are_stale(state: AgentState, event: AgentEvent) -> None:
    with pytest.raises(TransitionError, match=f"event for call c7, the agent's call is {CALL}"):
        apply(in_state(state), event, T, call_id="c7")
    assert apply(in_state(state), event, T, call_id=CALL)[0].state is not state


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_call_end_refuses_a_bad_wrap_up_time(seconds: float) -> None:
    with pytest.raises(ValueError, match="wrap_up_seconds"):
        apply(in_state(S.ON_CALL), E.CALL_END, T, wrap_up_seconds=seconds)
