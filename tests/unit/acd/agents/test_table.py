"""Every event in every state: the documented table is what the machine does."""

from __future__ import annotations

import re
from typing import Any

import pytest

import acd.agents.machine
from acd.agents import AgentEvent, AgentState, AgentStatus, TransitionError, apply
from tests.unit.acd.agents.support import AGENT, T, in_state

S = AgentState
E = AgentEvent
STATES = list(AgentState)

# Columns in the order of AgentState: logged-out available reserved on-call wrap-up paused.
EXPECTED: dict[AgentEvent, tuple[str, ...]] = {
    E.LOG_IN: ("available", "-", "-", "-", "-", "-"),
    E.LOG_OUT: ("-", "logged-out", "pending", "pending", "logged-out", "logged-out"),
    E.PAUSE: ("-", "paused", "pending", "pending", "paused", "paused"),
    E.READY: ("-", "-", "-", "-", "after", "available"),
    E.RESERVE: ("-", "reserved", "-", "-", "-", "-"),
    E.ANSWER: ("-", "-", "on-call", "-", "-", "-"),
    E.RING_NO_ANSWER: ("-", "-", "after", "-", "-", "-"),
    E.RESERVATION_CANCELLED: ("-", "-", "after", "-", "-", "-"),
    E.CALL_END: ("-", "-", "-", "wrap-up", "-", "-"),
    E.WRAP_UP_EXPIRED: ("-", "-", "-", "-", "after", "-"),
    E.SUPERVISOR_FORCE_LOGOUT: (
        "-",
        "logged-out",
        "pending",
        "pending",
        "logged-out",
        "logged-out",
    ),
    E.SUPERVISOR_FORCE_PAUSE: ("-", "paused", "pending", "pending", "paused", "paused"),
}

# Details for the table: the paused agent is on "break", so pausing for "lunch" is a change.
DETAILS: dict[AgentEvent, dict[str, Any]] = {
    E.PAUSE: {"reason": "lunch"},
    E.RESERVE: {"call_id": "c2"},
    E.CALL_END: {"wrap_up_seconds": 30.0},
}

CELLS = [(event, state) for event in AgentEvent for state in STATES]


def doc_table() -> dict[str, list[str]]:
    doc = acd.agents.machine.__doc__ or ""
    lines = doc.split("Transition table", 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["event"])
    rows: dict[str, list[str]] = {}
    for line in lines[start:]:
        if not line.strip():
            break
        name, *cells = line.split()
        rows[name] = [re.sub(r"\d$", "", cell) for cell in cells]
    return rows


def test_the_docstring_table_is_the_tested_table() -> None:
    rows = doc_table()
    assert rows.pop("event") == [state.value for state in STATES]
    assert rows == {event.value: list(cells) for event, cells in EXPECTED.items()}
    assert len(CELLS) == 72


@pytest.mark.parametrize(("event", "state"), CELLS, ids=[f"{e}-from-{s}" for e, s in CELLS])
def test_every_event_in_every_state(event: AgentEvent, state: AgentState) -> None:
    before = in_state(state)
    expected = EXPECTED[event][STATES.index(state)]
    if expected == "-":
        with pytest.raises(TransitionError) as refused:
            apply(before, event, T, **DETAILS.get(event, {}))
        assert (refused.value.agent_id, refused.value.state, refused.value.event) == (
            AGENT,
            state,
            event,
        )
        assert f"agent {AGENT} is {state}: {event} refused" in str(refused.value)
        assert before == in_state(state)
        return
    after, change = apply(before, event, T, **DETAILS.get(event, {}))
    if expected == "pending":
        assert after.state is state
        assert after.pending is not None
        assert after.since == before.since
    else:
        target = S.AVAILABLE if expected == "after" else S(expected)
        assert after.state is target
        assert after.since == T
        assert after.pending is None
    assert change.from_state is state
    assert change.to_state is after.state
    assert (change.agent_id, change.event, change.at) == (AGENT, event, T)


def test_refused_everywhere_else_with_a_string_event() -> None:
    with pytest.raises(TransitionError, match="agent 7 is logged-out: ready refused"):
        apply(AgentStatus("7"), "resume", T)
    with pytest.raises(ValueError, match="'dance'"):
        apply(AgentStatus("7"), "dance", T)
