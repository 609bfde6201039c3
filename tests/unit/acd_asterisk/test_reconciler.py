"""Reconciler.run_once: the ACD's agents set right from Asterisk's live channels."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from acd.agents import STUCK_GRACE, AgentState
from acd.service.acd import Acd
from ivr_engine.acd_asterisk.devices import DeviceStates
from ivr_engine.acd_asterisk.reconciler import Reconciler
from ivr_engine.ami import AmiLink
from tests.unit.acd_asterisk.scripted import (
    FakeClock,
    agent_status,
    call_row,
    log_in,
)
from tests.unit.ami.fake_ami import FakeAmi


def channel(name: str, unique_id: str) -> dict[str, str]:
    return {"Channel": name, "Uniqueid": unique_id, "ChannelStateDesc": "Up", "BridgeId": ""}


async def two_calls(acd: Acd, clock: FakeClock, answered: bool = True) -> None:
    """call-1 with 8001 and call-2 with 8002 (on the call, or ringing)."""
    await log_in(acd, clock, "8001", "8002")
    await acd.enqueue("call-1", "sales", unique_id="1790000000.1")
    await acd.enqueue("call-2", "sales", unique_id="1790000000.2")
    reserved = (await acd.dispatcher.run_pass()).reserved
    assert sorted(reserved) == [("call-1", "8001"), ("call-2", "8002")]
    if answered:
        for call_id, agent in reserved:
            assert await acd.answered(call_id, agent) is not None


def only_8002_has_a_channel(ami: FakeAmi) -> None:
    ami.answer_list(
        "CoreShowChannels",
        "CoreShowChannel",
        [
            channel("PJSIP/callers-00000001", "1790000000.1"),
            channel("PJSIP/callers-00000002", "1790000000.2"),
            channel("PJSIP/8002-0000002b", "1790000000.4"),
        ],
    )


@pytest.mark.parametrize(
    ("answered", "event", "repaired_state", "kept_state"),
    [
        (True, "call_end", AgentState.WRAP_UP, AgentState.ON_CALL),
        (False, "reservation_cancelled", AgentState.AVAILABLE, AgentState.RESERVED),
    ],
    ids=["on-call", "reserved"],
)
async def test_an_agent_without_a_channel_is_repaired_one_with_a_channel_kept(
    acd: Acd,
    clock: FakeClock,
    ami: FakeAmi,
    link: AmiLink,
    answered: bool,
    event: str,
    repaired_state: AgentState,
    kept_state: AgentState,
) -> None:
    await two_calls(acd, clock, answered)
    only_8002_has_a_channel(ami)
    clock.advance(STUCK_GRACE + 1)
    reconciler = Reconciler(acd, link, DeviceStates(), interval=60.0)

    assert await reconciler.run_once() == [f"agent 8001: {event}"]

    repaired = await agent_status(acd, "8001")
    assert repaired.state is repaired_state
    if answered:  # as if the hang-up had been heard: the call counts, wrap-up from now
        assert repaired.calls_today == 1
        assert repaired.wrap_up_until == clock.now + 30
    assert (await agent_status(acd, "8002")).state is kept_state
    for call_id in ("call-1", "call-2"):  # their callers are still on the line
        assert await call_row(acd, call_id) is not None
    assert (reconciler.runs, reconciler.repairs, reconciler.last_error) == (1, 1, None)
    action = await ami.wait_for_action("CoreShowChannels")
    assert action["Action"] == "CoreShowChannels"


async def test_within_the_grace_nothing_is_repaired(
    acd: Acd, clock: FakeClock, ami: FakeAmi, link: AmiLink
) -> None:
    await two_calls(acd, clock)
    only_8002_has_a_channel(ami)
    clock.advance(STUCK_GRACE - 1)
    reconciler = Reconciler(acd, link, DeviceStates(), interval=60.0)

    assert await reconciler.run_once() == []
    assert (await agent_status(acd, "8001")).state is AgentState.ON_CALL
    assert (reconciler.runs, reconciler.repairs) == (1, 0)


async def test_a_caller_whose_channel_is_gone_is_abandoned(
    acd: Acd, clock: FakeClock, ami: FakeAmi, link: AmiLink
) -> None:
    await acd.enqueue("call-1", "sales", unique_id="1790000000.1")
    ami.answer_list("CoreShowChannels", "CoreShowChannel", [])
    clock.advance(STUCK_GRACE + 1)
    assert await Reconciler(acd, link, DeviceStates(), 60.0).run_once() == [
        "call call-1: abandoned"
    ]
    assert await call_row(acd, "call-1") is None


async def test_a_new_ami_session_is_reconciled_at_once_not_an_interval_later(
    acd: Acd, clock: FakeClock, ami: FakeAmi, link: AmiLink
) -> None:
    """Asterisk restarted: the reconciler runs as soon as the link is back, though its
    interval (an hour here) is far from over."""
    ami.answer_list("CoreShowChannels", "CoreShowChannel", [])
    ami.answer_list("DeviceStateList", "DeviceStateChange", [])
    reconciler = Reconciler(acd, link, DeviceStates(), interval=3600.0)
    running = asyncio.create_task(reconciler.run())
    try:
        for _ in range(400):
            if reconciler.runs:
                break
            await asyncio.sleep(0.005)
        assert reconciler.runs == 1
        await acd.enqueue("call-1", "sales", unique_id="1790000000.1")  # its caller is gone
        clock.advance(STUCK_GRACE + 1)
        ami.drop_all()
        for _ in range(600):
            if reconciler.runs == 2:
                break
            await asyncio.sleep(0.005)
        assert (reconciler.runs, reconciler.repairs) == (2, 1)
        assert await call_row(acd, "call-1") is None
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
