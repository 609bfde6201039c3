"""The ACD runtime (``acd.service.acd.Acd``) on SQLite and PostgreSQL: queueing, offers,
answers, ring-outs, abandons, priorities, escalation, overflow, callbacks, estimates and
the logs reports read. Passes are run by hand with a clock the test moves. The repairs
from Asterisk's channels are in ``test_acd_repairs.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from acd.agents import MISSED_CALLS, AgentState
from acd.service.acd import DEFAULT_TALK_S, Acd
from acd.service.tickets import Offer
from acd.store.call_rows import CallRecord
from acd.store.sync import sync_config
from tests.db.acd_support import (
    CONFIG,
    T0,
    WRAP_UP_S,
    Clock,
    agent_row,
    all_calls,
    assert_consistent,
    call_row,
    events,
    log_in,
    queue_log,
    reserved,
    state,
    state_log,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def window() -> dict[str, bool]:
    """Whether the callback window of the ``acd`` fixture's ACD is open (it is, unless a
    test closes it)."""
    return {"open": True}


@pytest.fixture
async def acd(db_url: str, clock: Clock, window: dict[str, bool]) -> AsyncIterator[Acd]:
    await sync_config(db_url, CONFIG)
    service = Acd(db_url, CONFIG, "east", clock=clock, callback_window_open=lambda: window["open"])
    yield service
    await service.stop()


# -- offers, answers, wrap-up -------------------------------------------------------------
async def test_a_pass_reserves_a_free_agent_and_the_ticket_gets_the_offer(acd: Acd) -> None:
    ticket = await acd.enqueue("c1", "general", caller="13800138000")
    assert await reserved(acd) == []  # nobody logged in
    assert ticket.offer is None
    await log_in(acd, "8001")

    assert await reserved(acd) == [("c1", "8001")]
    assert ticket.offer == Offer("8001", "PJSIP/8001")
    row = await call_row(acd, "c1")
    assert row is not None
    assert (row.state, row.reserved_agent, row.instance) == ("offered", "8001", "east")
    agent = (await agent_row(acd, "8001")).status
    assert (agent.state, agent.current_call) == (AgentState.RESERVED, "c1")
    assert await reserved(acd) == []  # offered once
    await assert_consistent(acd)


async def test_answered_then_finished_wrap_up_then_available(acd: Acd, clock: Clock) -> None:
    ticket = await acd.enqueue("c1", "general")
    await log_in(acd, "8001")
    assert await reserved(acd) == [("c1", "8001")]
    clock.advance(4)
    assert await acd.answered("c1", "8002") is None  # not the agent reserved
    record = await acd.answered("c1", "8001")
    assert record is not None and record.id == "c1"
    assert ticket.answered_at == T0 + 4
    assert await state(acd, "8001") is AgentState.ON_CALL
    row = await call_row(acd, "c1")
    assert row is not None and row.state == "answered"
    await assert_consistent(acd)

    second = await acd.enqueue("c2", "general")
    clock.advance(60)
    end = clock.now
    await acd.finished(ticket, "8001")
    assert await call_row(acd, "c1") is None
    agent = (await agent_row(acd, "8001")).status
    assert agent.state is AgentState.WRAP_UP
    assert agent.wrap_up_until == pytest.approx(end + WRAP_UP_S)
    assert agent.calls_today == 1
    result = await acd.dispatcher.run_pass()
    assert result.reserved == []  # in wrap-up: c2 waits
    assert result.next_at == pytest.approx(end + WRAP_UP_S)

    clock.advance(WRAP_UP_S - 0.5)
    assert await reserved(acd) == []
    assert await state(acd, "8001") is AgentState.WRAP_UP
    clock.advance(0.5)
    assert await reserved(acd) == [("c2", "8001")]  # the same pass ends wrap-up and offers
    assert second.offer == Offer("8001", "PJSIP/8001")
    await assert_consistent(acd)


async def test_a_ring_out_keeps_the_place_skips_that_agent_and_pauses_after_max_missed(
    acd: Acd, clock: Clock
) -> None:
    first = await acd.enqueue("c1", "general")
    clock.advance(1)
    second = await acd.enqueue("c2", "general")
    await log_in(acd, "8001")
    assert await reserved(acd) == [("c1", "8001")]
    clock.advance(10)

    await acd.not_answered("c1", "8001", "NOANSWER")
    row = await call_row(acd, "c1")
    assert row is not None
    assert (row.state, row.reserved_agent) == ("waiting", None)
    assert row.call.entered_at == pytest.approx(T0)  # keeps its place by age
    assert row.call.declined_by == frozenset({"8001"})
    assert first.offer is None
    agent = (await agent_row(acd, "8001")).status
    assert (agent.state, agent.missed_in_row) == (AgentState.AVAILABLE, 1)
    await assert_consistent(acd)

    assert await reserved(acd) == [("c2", "8001")]  # c1 is older, but 8001 let it ring out
    assert second.offer == Offer("8001", "PJSIP/8001")
    await acd.not_answered("c2", "8001", "BUSY")
    agent = (await agent_row(acd, "8001")).status
    assert (agent.state, agent.pause_reason) == (AgentState.PAUSED, MISSED_CALLS)
    assert [r.reason for r in await state_log(acd, "8001")][-1] == MISSED_CALLS
    assert await reserved(acd) == []

    await acd.agent_event("8001", "ready")
    assert await reserved(acd) == []  # declined both: never offered them again
    await log_in(acd, "8002")
    assert await reserved(acd) == [("c1", "8002")]  # the older call first
    await assert_consistent(acd)


async def test_a_late_ring_out_from_an_earlier_agent_does_not_undo_a_new_offer(
    acd: Acd,
) -> None:
    """A duplicate ``not_answered`` for a call that was since offered to another agent."""
    ticket = await acd.enqueue("c1", "general")
    await log_in(acd, "8001")
    assert await reserved(acd) == [("c1", "8001")]
    await acd.not_answered("c1", "8001", "NOANSWER")
    await log_in(acd, "8002")
    assert await reserved(acd) == [("c1", "8002")]
    assert ticket.offer == Offer("8002", "PJSIP/8002")

    await acd.not_answered("c1", "8001", "NOANSWER")  # late, for the first offer
    row = await call_row(acd, "c1")
    assert row is not None
    assert (row.state, row.reserved_agent) == ("offered", "8002")
    assert ticket.offer == Offer("8002", "PJSIP/8002")
    await assert_consistent(acd)


async def test_abandon_while_offered_frees_the_agent_without_a_miss(acd: Acd, clock: Clock) -> None:
    ticket = await acd.enqueue("c1", "general")
    await log_in(acd, "8001")
    assert await reserved(acd) == [("c1", "8001")]
    clock.advance(7)
    await acd.abandon(ticket)
    assert ticket.done
    assert "c1" not in acd.tickets
    assert await call_row(acd, "c1") is None
    agent = (await agent_row(acd, "8001")).status
    assert (agent.state, agent.missed_in_row, agent.current_call) == (
        AgentState.AVAILABLE,
        0,
        None,
    )
    last = (await state_log(acd, "8001"))[-1]
    assert (last.event, last.from_state, last.to_state, last.call_id) == (
        "reservation_cancelled",
        "reserved",
        "available",
        "c1",
    )
    abandon = (await queue_log(acd, "c1"))[-1]
    assert (abandon.event, abandon.wait_s, abandon.detail) == ("abandon", 7.0, "caller hung up")
    assert await acd.answered("c1", "8001") is None  # too late
    await assert_consistent(acd)


async def test_abandon_while_waiting_leaves_the_agents_alone(acd: Acd, clock: Clock) -> None:
    ticket = await acd.enqueue("c1", "general")
    clock.advance(3)
    await acd.abandon(ticket, "caller hung up")
    assert await call_row(acd, "c1") is None
    assert await events(acd, "c1") == ["enter", "abandon"]
    await log_in(acd, "8001")
    assert await reserved(acd) == []


# -- priorities, escalation, overflow -----------------------------------------------------
async def test_a_vip_overtakes_earlier_ordinary_callers(acd: Acd, clock: Clock) -> None:
    await acd.enqueue("c1", "general")
    clock.advance(1)
    await acd.enqueue("c2", "general")
    clock.advance(1)
    vip = await acd.enqueue("v1", "vip")
    assert vip.priority == 10
    clock.advance(1)
    flagged = await acd.enqueue("c3", "general", priority=5)  # the CRM knows this caller
    await log_in(acd, "8001")
    assert await reserved(acd) == [("v1", "8001")]
    await log_in(acd, "8002")
    assert await reserved(acd) == [("c3", "8002")]
    assert flagged.offer is not None
    await log_in(acd, "8003", "8004")
    assert sorted(await reserved(acd)) == [("c1", "8003"), ("c2", "8004")]  # longest idle


async def test_an_escalation_step_relaxes_the_requirements_after_its_time(
    acd: Acd, clock: Clock
) -> None:
    ticket = await acd.enqueue("b1", "billing")  # billing 3, after 30 s billing 1
    await log_in(acd, "8005")  # billing 1
    result = await acd.dispatcher.run_pass()
    assert result.reserved == []
    assert result.next_at == pytest.approx(T0 + 30)
    clock.advance(29.5)
    assert await reserved(acd) == []
    clock.advance(0.5)
    assert await reserved(acd) == [("b1", "8005")]
    assert ticket.offer == Offer("8005", "PJSIP/8005")


async def test_overflow_keeps_the_place_by_age_and_restarts_the_queue_clock(
    acd: Acd, clock: Clock
) -> None:
    spilled = await acd.enqueue("s1", "spill")
    clock.advance(10)
    await acd.enqueue("g1", "general")
    clock.advance(50)
    assert await acd.overflow(spilled, "general")
    assert (spilled.queue, spilled.queued_at) == ("general", T0 + 60)
    row = await call_row(acd, "s1")
    assert row is not None
    assert (row.queue, row.call.entered_at, row.call.in_queue_since) == (
        "general",
        T0,
        T0 + 60,
    )
    overflow = (await queue_log(acd, "s1"))[-1]
    assert (overflow.event, overflow.queue, overflow.detail) == ("overflow", "spill", "to general")
    await log_in(acd, "8001")
    assert await reserved(acd) == [("s1", "8001")]  # older than g1, which was here first
    assert not await acd.overflow(spilled, "orders")  # offered now: stays


async def test_set_priority_applies_to_calls_already_waiting(acd: Acd, clock: Clock) -> None:
    await acd.enqueue("g1", "general")
    clock.advance(1)
    order = await acd.enqueue("o1", "orders")
    clock.advance(1)
    await acd.enqueue("o2", "orders")
    assert await acd.set_priority("orders", 7) == 2
    assert order.priority == 7
    assert {c.id: c.call.priority for c in await all_calls(acd)} == {"g1": 0, "o1": 7, "o2": 7}
    await log_in(acd, "8001")
    assert await reserved(acd) == [("o1", "8001")]
    await log_in(acd, "8002")
    assert await reserved(acd) == [("o2", "8002")]


# -- callbacks ----------------------------------------------------------------------------
class Runner:
    """A callback runner that records what it was asked to do."""

    def __init__(self) -> None:
        self.runs: list[tuple[CallRecord, Offer]] = []

    async def __call__(self, record: CallRecord, offer: Offer) -> None:
        self.runs.append((record, offer))


async def settle(acd: Acd) -> None:
    """Let the callback tasks a pass started run to their end."""
    for _ in range(20):
        await asyncio.sleep(0)
        if not acd.health()["callbacks_running"]:
            return
    raise AssertionError("callback runner still running")


async def test_a_callback_is_reserved_in_the_window_retried_then_given_up(
    acd: Acd, clock: Clock, window: dict[str, bool]
) -> None:
    runner = Runner()
    acd.callback_runner = runner
    window["open"] = False
    ticket = await acd.enqueue("c1", "general", caller="13800138000")
    clock.advance(20)
    assert await acd.to_callback(ticket, "13900139000")
    assert ticket.done and "c1" not in acd.tickets
    row = await call_row(acd, "c1")
    assert row is not None
    assert (row.kind, row.state, row.callback_number, row.call.entered_at) == (
        "callback",
        "waiting",
        "13900139000",
        T0,
    )

    await log_in(acd, "8001")
    assert await reserved(acd) == []  # outside the window
    assert await state(acd, "8001") is AgentState.AVAILABLE
    window["open"] = True
    assert await reserved(acd) == [("c1", "8001")]
    await settle(acd)
    assert [(r.id, r.kind, r.callback_number, o) for r, o in runner.runs] == [
        ("c1", "callback", "13900139000", Offer("8001", "PJSIP/8001"))
    ]
    assert ticket.offer is None  # the caller's ticket is out of it

    first = await acd.answered("c1", "8001", kind="callback")  # the callback leg
    assert first is not None
    clock.advance(30)
    await acd.callback_ended(first, "8001", "NOANSWER")
    row = await call_row(acd, "c1")
    assert row is not None
    assert (row.state, row.reserved_agent, row.attempts) == ("waiting", None, 1)
    assert row.not_before == pytest.approx(clock.now + 60)
    assert await state(acd, "8001") is AgentState.AVAILABLE  # no wrap-up: nobody talked
    assert await reserved(acd) == []  # not due yet
    await reserved(acd)
    await settle(acd)
    assert len(runner.runs) == 1

    clock.advance(60)
    assert await reserved(acd) == [("c1", "8001")]
    await settle(acd)
    assert len(runner.runs) == 2
    second = await acd.answered("c1", "8001", kind="callback")
    assert second is not None
    await acd.callback_ended(second, "8001", "NOANSWER")  # max_attempts 2: given up
    assert await call_row(acd, "c1") is None
    made = [r for r in await queue_log(acd, "c1") if r.event == "callback-made"]
    assert len(made) == 2
    assert "attempt 2" in made[-1].detail and "gave up: NOANSWER" in made[-1].detail
    assert await events(acd, "c1") == [
        "enter",
        "callback-offered",
        "offer",
        "answer",
        "callback-made",
        "offer",
        "answer",
        "callback-made",
    ]
    await assert_consistent(acd)


async def test_an_answered_callback_is_done_and_the_agent_wraps_up(acd: Acd, clock: Clock) -> None:
    acd.callback_runner = Runner()
    ticket = await acd.enqueue("c1", "general")
    assert await acd.to_callback(ticket, "13900139000")
    await log_in(acd, "8001")
    assert await reserved(acd) == [("c1", "8001")]
    await settle(acd)
    assert await acd.answered("c1", "8001") is None  # a callback, not a caller's call
    record = await acd.answered("c1", "8001", kind="callback")
    assert record is not None
    await acd.callback_ended(record, "8001", "ANSWER")
    assert await call_row(acd, "c1") is None
    assert await state(acd, "8001") is AgentState.WRAP_UP
    assert "answered" in (await queue_log(acd, "c1"))[-1].detail


async def test_to_callback_is_refused_once_an_agent_is_reserved(acd: Acd) -> None:
    ticket = await acd.enqueue("c1", "general")
    await log_in(acd, "8001")
    assert await reserved(acd) == [("c1", "8001")]
    assert not await acd.to_callback(ticket, "13900139000")
    row = await call_row(acd, "c1")
    assert row is not None and (row.kind, row.state) == ("caller", "offered")


# -- estimates ----------------------------------------------------------------------------
async def test_estimate_gives_the_position_and_a_wait(acd: Acd, clock: Clock) -> None:
    tickets = []
    for n in range(3):
        tickets.append(await acd.enqueue(f"c{n}", "general"))
        clock.advance(1)
    vip = await acd.enqueue("v", "general", priority=5)
    await log_in(acd, "8001", "8002", "8005")  # 8005 cannot take general calls
    handle = DEFAULT_TALK_S + WRAP_UP_S  # no talk history yet
    assert await acd.estimate(vip) == pytest.approx((1, handle / 2))
    assert await acd.estimate(tickets[0]) == pytest.approx((2, 2 * handle / 2))
    assert await acd.estimate(tickets[2]) == pytest.approx((4, 4 * handle / 2))

    # History: one call talked 100 s; the estimate follows it. c0, offered now, still
    # counts as ahead (its agent may let it ring out).
    assert await reserved(acd) == [("v", "8001"), ("c0", "8002")]
    assert await acd.answered("v", "8001") is not None
    clock.advance(100)
    await acd.finished(vip, "8001")
    assert await acd.estimate(tickets[2]) == pytest.approx((3, 3 * (100 + WRAP_UP_S) / 2))


# -- the logs -----------------------------------------------------------------------------
async def test_the_logs_have_the_lines_reports_need(acd: Acd, clock: Clock) -> None:
    talked = await acd.enqueue("c1", "general", caller="13800138000")
    left = await acd.enqueue("c2", "general")
    await log_in(acd, "8001")
    clock.advance(2)
    assert await reserved(acd) == [("c1", "8001")]
    clock.advance(3)
    await acd.not_answered("c1", "8001", "NOANSWER")
    await log_in(acd, "8002")
    assert sorted(await reserved(acd)) == [("c1", "8002"), ("c2", "8001")]
    clock.advance(4)
    assert await acd.answered("c1", "8002") is not None
    await acd.abandon(left)
    clock.advance(90)
    await acd.finished(talked, "8002")
    clock.advance(WRAP_UP_S)
    await reserved(acd)

    lines = [
        (r.event, r.queue, r.agent_id, r.wait_s, r.talk_s, r.detail)
        for r in await queue_log(acd, "c1")
    ]
    assert lines == [
        ("enter", "general", None, None, None, "priority=0"),
        ("offer", "general", "8001", None, None, ""),
        ("ring-no-answer", "general", "8001", None, None, "NOANSWER"),
        ("offer", "general", "8002", None, None, ""),
        ("answer", "general", "8002", 9.0, None, ""),
        ("complete", "general", "8002", None, 90.0, ""),
    ]
    assert [(r.event, r.agent_id, r.wait_s) for r in await queue_log(acd, "c2")] == [
        ("enter", None, None),
        ("offer", "8001", None),
        ("abandon", None, 9.0),
    ]
    changes = [(r.event, r.from_state, r.to_state, r.call_id) for r in await state_log(acd, "8002")]
    assert changes == [
        ("log_in", "logged-out", "available", None),
        ("reserve", "available", "reserved", "c1"),
        ("answer", "reserved", "on-call", "c1"),
        ("call_end", "on-call", "wrap-up", "c1"),
        ("wrap_up_expired", "wrap-up", "available", "c1"),
    ]
    first = [(r.event, r.to_state, r.call_id) for r in await state_log(acd, "8001")]
    assert first == [
        ("log_in", "available", None),
        ("reserve", "reserved", "c1"),
        ("ring_no_answer", "available", "c1"),
        ("reserve", "reserved", "c2"),
        ("reservation_cancelled", "available", "c2"),
    ]
    times = [r.at.timestamp() for r in await state_log(acd, "8002")]
    assert times == [T0 + 5, T0 + 5, T0 + 9, T0 + 99, T0 + 99 + WRAP_UP_S]
