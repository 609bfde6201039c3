"""Wrap-up: deadline from the queue's wrap-up time, early finish, expiry."""

from __future__ import annotations

import pytest

from acd.agents import (
    AgentEvent,
    AgentState,
    TransitionError,
    apply,
    new_day,
    wrap_up_remaining,
)
from tests.unit.acd.agents.support import CALL, T, in_state, run

E = AgentEvent
S = AgentState


def test_call_end_starts_wrap_up_with_the_queues_deadline() -> None:
    status, change = apply(in_state(S.ON_CALL), E.CALL_END, T, wrap_up_seconds=30.0)
    assert (status.state, status.since, status.wrap_up_until) == (S.WRAP_UP, T, T + 30)
    assert (status.last_call_end, status.calls_today, status.current_call) == (T, 1, CALL)
    assert (change.to_state, change.reason) == (S.WRAP_UP, None)
    assert not status.accepts_calls


def test_remaining_time() -> None:
    status = run(in_state(S.ON_CALL), E.CALL_END, wrap_up_seconds=30.0)
    assert wrap_up_remaining(status, T) == 30
    assert wrap_up_remaining(status, T + 12.5) == 17.5
    assert wrap_up_remaining(status, T + 31) == 0
    assert wrap_up_remaining(in_state(S.AVAILABLE), T) == 0
    assert wrap_up_remaining(in_state(S.ON_CALL), T) == 0


def test_expiry_is_refused_before_the_deadline_and_accepted_at_it() -> None:
    status = run(in_state(S.ON_CALL), E.CALL_END, wrap_up_seconds=30.0)
    with pytest.raises(
        TransitionError, match=r"is wrap-up: wrap_up_expired refused \(wrap-up runs 0\.5 s more\)"
    ):
        apply(status, E.WRAP_UP_EXPIRED, T + 29.5)
    after, change = apply(status, E.WRAP_UP_EXPIRED, T + 30)
    assert (after.state, after.since, after.wrap_up_until, after.current_call) == (
        S.AVAILABLE,
        T + 30,
        None,
        None,
    )
    assert change.event is E.WRAP_UP_EXPIRED


def test_ready_finishes_wrap_up_early() -> None:
    status = run(in_state(S.ON_CALL), E.CALL_END, wrap_up_seconds=120.0)
    after, change = apply(status, E.READY, T + 10)
    assert (after.state, after.since, after.wrap_up_until) == (S.AVAILABLE, T + 10, None)
    assert (change.from_state, change.to_state) == (S.WRAP_UP, S.AVAILABLE)
    with pytest.raises(TransitionError, match="not in wrap-up"):
        apply(after, E.WRAP_UP_EXPIRED, T + 120)


def test_no_wrap_up_time_means_straight_to_available() -> None:
    status = run(in_state(S.ON_CALL), E.CALL_END, wrap_up_seconds=0.0)
    assert (status.state, status.wrap_up_until, status.calls_today) == (S.AVAILABLE, None, 1)


def test_calls_today_adds_up_and_new_day_resets_it() -> None:
    status = in_state(S.ON_CALL, calls_today=7)
    status = run(status, E.CALL_END, wrap_up_seconds=5.0)
    assert status.calls_today == 8
    assert new_day(status).calls_today == 0
    assert new_day(status).state is S.WRAP_UP
