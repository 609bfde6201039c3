"""Calls that ring out: counted in a row, paused for missed-calls at max_missed."""

from __future__ import annotations

from acd.agents import MISSED_CALLS, AgentEvent, AgentPolicy, AgentState, apply
from tests.unit.acd.agents.support import T, in_state, run

E = AgentEvent
S = AgentState


def offer_and_miss(policy: AgentPolicy | None = None, times: int = 1) -> list[AgentState]:
    status = in_state(S.AVAILABLE)
    states = []
    for n in range(times):
        status = run(status, E.RESERVE, at=T + n, call_id=f"c{n}")
        status, _ = apply(status, E.RING_NO_ANSWER, T + n, policy=policy or AgentPolicy())
        states.append(status.state)
    return states


def test_two_misses_in_a_row_pause_the_agent() -> None:
    status = run(in_state(S.RESERVED), E.RING_NO_ANSWER)
    assert (status.state, status.missed_in_row) == (S.AVAILABLE, 1)
    status = run(status, E.RESERVE, call_id="c2")
    status, change = apply(status, E.RING_NO_ANSWER, T + 20)
    assert (status.state, status.pause_reason, status.missed_in_row) == (S.PAUSED, MISSED_CALLS, 2)
    assert (change.to_state, change.reason, change.event) == (
        S.PAUSED,
        MISSED_CALLS,
        E.RING_NO_ANSWER,
    )


def test_answer_resets_the_count() -> None:
    status = run(in_state(S.RESERVED, missed_in_row=1), E.ANSWER)
    assert status.missed_in_row == 0
    status = run(status, E.CALL_END, E.RESERVE, call_id="c1")
    assert run(status, E.RING_NO_ANSWER).state is S.AVAILABLE


def test_ready_and_log_in_reset_the_count() -> None:
    paused = in_state(S.PAUSED, pause_reason=MISSED_CALLS, missed_in_row=2)
    resumed = run(paused, E.READY)
    assert (resumed.state, resumed.missed_in_row) == (S.AVAILABLE, 0)
    back = run(in_state(S.LOGGED_OUT, missed_in_row=1), E.LOG_IN)
    assert back.missed_in_row == 0


def test_a_cancelled_reservation_is_no_miss() -> None:
    status = run(in_state(S.RESERVED, missed_in_row=1), E.RESERVATION_CANCELLED)
    assert (status.state, status.missed_in_row) == (S.AVAILABLE, 1)


def test_max_missed_is_configurable_and_zero_turns_it_off() -> None:
    assert offer_and_miss(AgentPolicy(max_missed=3), times=3) == [
        S.AVAILABLE,
        S.AVAILABLE,
        S.PAUSED,
    ]
    assert offer_and_miss(AgentPolicy(max_missed=1)) == [S.PAUSED]
    assert offer_and_miss(AgentPolicy(max_missed=0), times=5) == [S.AVAILABLE] * 5


def test_a_pending_request_wins_over_the_missed_calls_pause() -> None:
    status = run(in_state(S.RESERVED, missed_in_row=1), E.PAUSE, E.RING_NO_ANSWER, reason="lunch")
    assert (status.state, status.pause_reason, status.missed_in_row) == (S.PAUSED, "lunch", 2)
