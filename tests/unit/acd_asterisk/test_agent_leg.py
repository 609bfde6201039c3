"""The agent's side of ACD calls: the agent-answer and callback FastAGI routes."""

from __future__ import annotations

import pytest

from acd.agents import AgentState
from acd.service.acd import Acd
from ivr_engine.acd_asterisk.agent_leg import AgentAnswer, CallbackLeg, agent_of_channel
from ivr_engine.agi.errors import CallerHangup
from ivr_engine.agi.session import AgiSession
from tests.unit.acd_asterisk.scripted import (
    DialHook,
    FakeClock,
    ScriptedAsterisk,
    agent_status,
    agi_headers,
    agi_session,
    call_row,
    log_in,
    queue_log,
)

NUMBER = "13912345678"
ZH = 'SET VARIABLE "CHANNEL(language)" "zh"'
ABORT = 'SET VARIABLE "GOSUB_RESULT" "ABORT"'


def stream(prompt: str) -> str:
    return f'STREAM FILE "hotline/{prompt}" "" 0'


async def offer(acd: Acd, clock: FakeClock, queue: str, agent: str) -> None:
    """call-1 waits 4 s in ``queue``, then ``agent`` is reserved for it."""
    await log_in(acd, clock, agent)
    await acd.enqueue("call-1", queue, caller="13800138000")
    clock.advance(4.0)
    assert (await acd.dispatcher.run_pass()).reserved == [("call-1", agent)]


async def offer_callback(acd: Acd, clock: FakeClock, agent: str = "8001") -> None:
    """call-1 took a callback to NUMBER in sales; ``agent`` is reserved for it."""
    ticket = await acd.enqueue("call-1", "sales", caller="13800138000")
    assert await acd.to_callback(ticket, NUMBER)
    await log_in(acd, clock, agent)
    assert (await acd.dispatcher.run_pass()).reserved == [("call-1", agent)]


async def on_agent_leg(
    route: AgentAnswer | CallbackLeg, peer: ScriptedAsterisk, channel: str, *args: str
) -> None:
    headers = agi_headers(channel, *args, agi_network_script="agent-answer")
    session: AgiSession
    async with agi_session(peer, headers) as session:
        await route(session)


def test_agent_of_channel() -> None:
    assert agent_of_channel("PJSIP/8001-0000002a") == "8001"
    assert agent_of_channel("PJSIP/8001") == "8001"


# -- agent-answer -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("queue", "agent", "whisper"),
    [
        ("billing", "8003", ["acd-whisper-vip", "acd-whisper-billing"]),
        ("sales", "8001", ["acd-whisper-sales"]),  # the default: acd-whisper-<queue>
    ],
)
async def test_the_answer_is_recorded_and_the_whisper_played(
    acd: Acd, clock: FakeClock, queue: str, agent: str, whisper: list[str]
) -> None:
    await offer(acd, clock, queue, agent)
    clock.advance(3.0)
    peer = ScriptedAsterisk()
    await on_agent_leg(AgentAnswer(acd), peer, f"PJSIP/{agent}-0000002a", "call-1")

    assert peer.commands == [ZH, *(stream(p) for p in whisper)]
    status = await agent_status(acd, agent)
    assert (status.state, status.current_call) == (AgentState.ON_CALL, "call-1")
    row = await call_row(acd, "call-1")
    assert row is not None and row.state == "answered"
    answer = (await queue_log(acd, "call-1"))[-1]
    assert (answer["event"], answer["agent_id"], answer["queue"]) == ("answer", agent, queue)
    assert answer["wait_s"] == pytest.approx(7.0)
    assert acd.tickets["call-1"].answered_at == clock.now


async def test_a_call_the_caller_left_is_aborted(acd: Acd, clock: FakeClock) -> None:
    await offer(acd, clock, "sales", "8001")
    await acd.abandon(acd.tickets["call-1"])
    peer = ScriptedAsterisk()
    await on_agent_leg(AgentAnswer(acd), peer, "PJSIP/8001-0000002a", "call-1")

    assert peer.commands == [ABORT]
    assert (await agent_status(acd, "8001")).state is AgentState.AVAILABLE
    assert [r["event"] for r in await queue_log(acd, "call-1")] == ["enter", "offer", "abandon"]


async def test_a_call_offered_to_another_agent_is_aborted(acd: Acd, clock: FakeClock) -> None:
    await offer(acd, clock, "sales", "8001")
    await log_in(acd, clock, "8002")
    peer = ScriptedAsterisk()
    await on_agent_leg(AgentAnswer(acd), peer, "PJSIP/8002-0000002b", "call-1")

    assert peer.commands == [ABORT]
    assert (await agent_status(acd, "8001")).state is AgentState.RESERVED
    assert (await agent_status(acd, "8002")).state is AgentState.AVAILABLE
    row = await call_row(acd, "call-1")
    assert row is not None and (row.state, row.reserved_agent) == ("offered", "8001")


async def test_an_answer_without_a_call_id_is_aborted(acd: Acd) -> None:
    peer = ScriptedAsterisk()
    await on_agent_leg(AgentAnswer(acd), peer, "PJSIP/8001-0000002a")
    assert peer.commands == [ABORT]


# -- callback -----------------------------------------------------------------------------


def customer(clock: FakeClock, status: str, talk_s: float = 60.0) -> DialHook:
    async def dial(args: str) -> str:
        clock.advance(talk_s)
        return status

    return dial


async def test_a_callback_the_customer_answers_is_done(acd: Acd, clock: FakeClock) -> None:
    await offer_callback(acd, clock)
    peer = ScriptedAsterisk(on_dial=customer(clock, "ANSWER"))
    await on_agent_leg(CallbackLeg(acd), peer, "PJSIP/8001-00000040", "call-1")

    assert peer.commands == [
        ZH,
        stream("acd-whisper-callback"),
        stream("acd-whisper-sales"),
        f'EXEC "Dial" "PJSIP/{NUMBER}@trunk,25,g"',
        'GET VARIABLE "DIALSTATUS"',
    ]
    assert await call_row(acd, "call-1") is None
    log = await queue_log(acd, "call-1")
    assert [(r["event"], r["agent_id"]) for r in log] == [
        ("enter", None),
        ("callback-offered", None),
        ("offer", "8001"),
        ("answer", "8001"),
        ("callback-made", "8001"),
    ]
    assert log[-1]["detail"] == f"to {NUMBER} attempt 1: answered"
    status = await agent_status(acd, "8001")
    assert (status.state, status.calls_today) == (AgentState.WRAP_UP, 1)
    assert status.wrap_up_until == clock.now + 30


async def test_a_callback_nobody_answers_is_tried_again_later(acd: Acd, clock: FakeClock) -> None:
    await offer_callback(acd, clock)
    peer = ScriptedAsterisk(on_dial=customer(clock, "NOANSWER", 25.0))
    await on_agent_leg(CallbackLeg(acd), peer, "PJSIP/8001-00000040", "call-1")

    row = await call_row(acd, "call-1")
    assert row is not None
    assert (row.kind, row.state, row.reserved_agent, row.attempts) == (
        "callback",
        "waiting",
        None,
        1,
    )
    assert row.not_before == pytest.approx(clock.now + 120)
    made = (await queue_log(acd, "call-1"))[-1]
    assert (made["event"], made["detail"]) == (
        "callback-made",
        f"to {NUMBER} attempt 1: NOANSWER, again in 120 s",
    )
    assert (await agent_status(acd, "8001")).state is AgentState.AVAILABLE  # no wrap-up

    assert (await acd.dispatcher.run_pass()).reserved == []  # not before the retry time
    clock.advance(120.0)
    assert (await acd.dispatcher.run_pass()).reserved == [("call-1", "8001")]


async def test_a_callback_is_given_up_after_max_attempts(acd: Acd, clock: FakeClock) -> None:
    await offer_callback(acd, clock)
    for _ in range(2):  # max_attempts 2
        peer = ScriptedAsterisk(on_dial=customer(clock, "BUSY", 5.0))
        await on_agent_leg(CallbackLeg(acd), peer, "PJSIP/8001-00000040", "call-1")
        clock.advance(120.0)
        await acd.dispatcher.run_pass()

    assert await call_row(acd, "call-1") is None
    made = [r["detail"] for r in await queue_log(acd, "call-1") if r["event"] == "callback-made"]
    assert made == [
        f"to {NUMBER} attempt 1: BUSY, again in 120 s",
        f"to {NUMBER} attempt 2: gave up: BUSY",
    ]


async def test_the_agent_hanging_up_reports_how_far_the_customer_got(
    acd: Acd, clock: FakeClock
) -> None:
    await offer_callback(acd, clock)
    peer = ScriptedAsterisk()

    async def dial(args: str) -> str:
        peer.hang_up = True  # they talked; the agent hangs up
        return "ANSWER"

    peer.on_dial = dial
    with pytest.raises(CallerHangup):
        await on_agent_leg(CallbackLeg(acd), peer, "PJSIP/8001-00000040", "call-1")

    assert peer.commands[-1] == 'GET VARIABLE "DIALSTATUS"'  # read on the dead channel
    assert await call_row(acd, "call-1") is None
    assert (await queue_log(acd, "call-1"))[-1]["detail"] == f"to {NUMBER} attempt 1: answered"


async def test_a_callback_leg_for_no_callback_does_nothing(acd: Acd, clock: FakeClock) -> None:
    await offer_callback(acd, clock)
    peer = ScriptedAsterisk()
    await on_agent_leg(CallbackLeg(acd), peer, "PJSIP/8002-00000041", "call-1")  # not 8002's
    assert peer.commands == []
    row = await call_row(acd, "call-1")
    assert row is not None and (row.state, row.reserved_agent) == ("offered", "8001")
