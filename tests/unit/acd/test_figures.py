"""The queues' and agents' figures now, from hand-made rows: who counts as waiting, ringing,
owed a callback or talking; the longest wait; which agents count in a queue."""

from __future__ import annotations

from acd.agents import AgentState, AgentStatus
from acd.config import parse_config
from acd.figures import STATES, QueueNow, agents_by_state, queues_now
from acd.routing import WaitingCall
from acd.store.agent_rows import AgentRecord
from acd.store.call_rows import CallRecord

NOW = 10_000.0
CONFIG = parse_config(
    {
        "version": 1,
        "skills": {"general": "shared pool", "vip": "VIP callers"},
        "queues": {
            "vip": {
                "requirements": {"vip": 3},
                "escalation": [{"after": 30, "requirements": {"general": 1}}],
            },
            "general": {"requirements": {"general": 1}},
        },
        "agents": [
            {"ids": "8001", "skills": {"vip": 4, "general": 2}},
            {"ids": "8002-8003", "skills": {"general": 1}},
        ],
    },
    "<figures>",
)


def agent(agent_id: str, state: AgentState) -> AgentRecord:
    return AgentRecord(AgentStatus(agent_id, state), 1, f"PJSIP/{agent_id}", 0.0)


def call(
    call_id: str,
    queue: str,
    state: str,
    entered_at: float,
    *,
    kind: str = "caller",
    queued_at: float | None = None,
) -> CallRecord:
    waiting = WaitingCall(call_id, queue, 0, entered_at, queued_at=queued_at)
    return CallRecord(waiting, state, kind, "east", None, "13900139000", "", "", None, 0, None)


def by_name(queues: tuple[QueueNow, ...]) -> dict[str, QueueNow]:
    return {queue.name: queue for queue in queues}


def every_state(**counts: int) -> dict[str, int]:
    return {state: counts.get(state.replace("-", "_"), 0) for state in STATES}


AGENTS = [
    agent("8001", AgentState.AVAILABLE),
    agent("8002", AgentState.ON_CALL),
    agent("8003", AgentState.PAUSED),
    agent("8099", AgentState.AVAILABLE),  # in the store, no longer configured
]


def test_callers_waiting_and_ringing_count_callbacks_and_answered_calls_do_not() -> None:
    calls = [
        call("w", "general", "waiting", NOW - 30),
        call("r", "general", "offered", NOW - 50),
        call("t", "general", "answered", NOW - 400),
        call("cb-w", "general", "waiting", NOW - 900, kind="callback"),
        call("cb-r", "general", "offered", NOW - 800, kind="callback"),
        call("cb-t", "general", "answered", NOW - 700, kind="callback"),
    ]
    general = by_name(queues_now(CONFIG, AGENTS, calls))["general"]
    assert (general.waiting, general.ringing) == (2, 1)
    assert general.callbacks == 2  # owed until made: waiting, or ringing its agent
    assert general.talking == 2  # the caller with 8002, and the callback being made
    assert general.longest_wait_s(NOW) == 50.0  # callers only: callbacks wait longer


def test_a_caller_moved_over_from_another_queue_keeps_its_wait() -> None:
    moved = call("m", "general", "waiting", NOW - 120, queued_at=NOW - 10)
    general = by_name(queues_now(CONFIG, AGENTS, [moved]))["general"]
    assert general.longest_wait_s(NOW) == 120.0
    assert general.longest_wait_s(NOW - 200) == 0.0  # never negative
    assert by_name(queues_now(CONFIG, AGENTS, []))["general"].longest_wait_s(NOW) is None


def test_a_queues_agents_are_those_it_asks_for_before_any_escalation() -> None:
    queues = by_name(queues_now(CONFIG, AGENTS, []))
    # vip asks for vip 3 (8001); general 1 after 30 s would let 8002 and 8003 in too.
    assert queues["vip"].agents == every_state(available=1)
    assert queues["general"].agents == every_state(available=1, on_call=1, paused=1)
    assert agents_by_state(AGENTS) == every_state(available=2, on_call=1, paused=1)


def test_a_queue_no_longer_configured_with_calls_comes_last_with_no_agents() -> None:
    calls = [call("old-1", "old", "waiting", NOW - 5), call("x", "archive", "answered", 0.0)]
    queues = queues_now(CONFIG, AGENTS, calls)
    assert [queue.name for queue in queues] == ["vip", "general", "archive", "old"]
    old = by_name(queues)["old"]
    assert (old.waiting, old.agents) == (1, every_state())
