"""Log out / pause during a call: noted, then carried out when the call work is over."""

from __future__ import annotations

import pytest

from acd.agents import (
    AgentEvent,
    AgentState,
    Pending,
    PendingKind,
    StateChange,
    TransitionError,
    apply,
)
from tests.unit.acd.agents.support import AGENT, CALL, T, in_state, run

E = AgentEvent
S = AgentState
PAUSE_LUNCH = Pending(PendingKind.PAUSE, "lunch")
LOG_OUT = Pending(PendingKind.LOG_OUT)


@pytest.mark.parametrize("state", [S.RESERVED, S.ON_CALL])
def test_requests_during_a_call_are_noted_without_a_change_of_state(state: AgentState) -> None:
    before = in_state(state)
    paused, change = apply(before, E.PAUSE, T, reason="lunch")
    assert paused == in_state(state, pending=PAUSE_LUNCH)
    assert change == StateChange(AGENT, state, state, E.PAUSE, "lunch", T)
    leaving, change = apply(paused, E.LOG_OUT, T)
    assert leaving == in_state(state, pending=LOG_OUT)
    assert (change.from_state, change.to_state, change.reason) == (state, state, None)


def test_pending_pause_survives_answer_and_waits_for_wrap_up() -> None:
    talking = run(in_state(S.RESERVED), E.PAUSE, E.ANSWER, reason="lunch")
    assert (talking.state, talking.pending) == (S.ON_CALL, PAUSE_LUNCH)
    wrapping = run(talking, E.CALL_END, wrap_up_seconds=20.0)
    assert (wrapping.state, wrapping.pending, wrapping.current_call) == (
        S.WRAP_UP,
        PAUSE_LUNCH,
        CALL,
    )
    paused, change = apply(wrapping, E.WRAP_UP_EXPIRED, T + 20)
    assert (paused.state, paused.pause_reason, paused.pending, paused.current_call) == (
        S.PAUSED,
        "lunch",
        None,
        None,
    )
    assert change == StateChange(AGENT, S.WRAP_UP, S.PAUSED, E.WRAP_UP_EXPIRED, "lunch", T + 20)


def test_ready_in_wrap_up_ends_wrap_up_and_then_the_pending_request_applies() -> None:
    wrapping = run(in_state(S.ON_CALL), E.LOG_OUT, E.CALL_END, wrap_up_seconds=60.0)
    after, change = apply(wrapping, E.READY, T + 5)
    assert (after.state, change.event) == (S.LOGGED_OUT, E.READY)


def test_without_wrap_up_the_pending_request_applies_at_call_end() -> None:
    after, change = apply(in_state(S.ON_CALL, pending=PAUSE_LUNCH), E.CALL_END, T)
    assert (after.state, after.pause_reason, after.calls_today, after.last_call_end) == (
        S.PAUSED,
        "lunch",
        1,
        T,
    )
    assert change.reason == "lunch"


@pytest.mark.parametrize("event", [E.RING_NO_ANSWER, E.RESERVATION_CANCELLED])
def test_when_the_ringing_stops_the_pending_request_applies(event: AgentEvent) -> None:
    after = run(in_state(S.RESERVED, pending=LOG_OUT), event)
    assert (after.state, after.current_call, after.pending) == (S.LOGGED_OUT, None, None)


def test_the_latest_request_wins() -> None:
    talking = run(in_state(S.ON_CALL), E.LOG_OUT)
    talking = run(talking, E.PAUSE, reason="training")
    assert talking.pending == Pending(PendingKind.PAUSE, "training")
    assert run(talking, E.CALL_END).pause_reason == "training"


def test_a_direct_request_in_wrap_up_applies_at_once_and_drops_the_pending() -> None:
    wrapping = in_state(S.WRAP_UP, pending=LOG_OUT, wrap_up_until=T + 60)
    paused = run(wrapping, E.PAUSE, reason="meeting")
    assert (paused.state, paused.pause_reason, paused.pending) == (S.PAUSED, "meeting", None)


def test_changed_mind_after_the_call_say_ready() -> None:
    paused = run(in_state(S.ON_CALL), E.PAUSE, E.CALL_END)
    assert run(paused, E.READY).state is S.AVAILABLE


def test_ready_cannot_cancel_a_pending_request_during_the_call() -> None:
    with pytest.raises(TransitionError, match="the call is not over"):
        apply(in_state(S.ON_CALL, pending=PAUSE_LUNCH), E.READY, T)
