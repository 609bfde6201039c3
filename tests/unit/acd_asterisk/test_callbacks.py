"""CallbackDialler: the ACD reserved an agent for a callback; Originate rings the agent."""

from __future__ import annotations

import asyncio

from acd.agents import AgentState
from acd.service.acd import Acd
from acd.service.tickets import Offer
from acd.store.call_rows import CallRecord
from ivr_engine.acd_asterisk.callbacks import CallbackDialler, CallbackLegs
from ivr_engine.ami import AmiLink
from tests.unit.acd_asterisk.scripted import (
    FakeClock,
    agent_status,
    call_row,
    log_in,
    queue_log,
)
from tests.unit.acd_asterisk.support import eventually
from tests.unit.ami.fake_ami import FakeAmi

NUMBER = "13912345678"


async def reserved_callback(acd: Acd, clock: FakeClock) -> CallRecord:
    """call-1 took a callback to NUMBER in sales and 8001 is reserved for it."""
    ticket = await acd.enqueue("call-1", "sales", caller="13800138000")
    assert await acd.to_callback(ticket, NUMBER)
    await log_in(acd, clock, "8001")
    assert (await acd.dispatcher.run_pass()).reserved == [("call-1", "8001")]
    record = await call_row(acd, "call-1")
    assert record is not None and record.state == "offered"
    return record


def dialler(acd: Acd, link: AmiLink, legs: CallbackLegs | None = None) -> CallbackDialler:
    # The queue rings 12 s; the leg must report the answer within 12 - 11.8 = 0.2 s more.
    return CallbackDialler(acd, link, "10.0.0.5", 4573, legs or CallbackLegs(), answer_margin=-11.8)


async def test_originate_rings_the_agent_and_waits_for_the_leg(
    acd: Acd, clock: FakeClock, ami: FakeAmi, link: AmiLink
) -> None:
    record = await reserved_callback(acd, clock)
    legs = CallbackLegs()
    running = asyncio.create_task(dialler(acd, link, legs)(record, Offer("8001", "PJSIP/8001")))

    action = await ami.wait_for_action("Originate")
    assert {k: action[k] for k in ("Channel", "Application", "Data", "Timeout", "Async")} == {
        "Channel": "PJSIP/8001",
        "Application": "AGI",
        "Data": "agi://10.0.0.5:4573/callback,call-1",
        "Timeout": "12000",  # the queue's ring time, in ms
        "Async": "true",  # the AMI session is not held up while the phone rings
    }
    assert action["CallerID"] == f'"Callback" <{NUMBER}>'
    legs.answered("call-1")  # what the callback route says once the agent picked up
    await asyncio.sleep(0.3)
    assert not running.done()  # the dialler lasts as long as the leg: no second Originate
    legs.ended("call-1")
    await asyncio.wait_for(running, 2)
    row = await call_row(acd, "call-1")  # the leg, not the dialler, decides what happens
    assert row is not None and (row.state, row.reserved_agent) == ("offered", "8001")
    assert (await agent_status(acd, "8001")).state is AgentState.RESERVED


async def test_an_agent_who_never_answers_puts_the_callback_back(
    acd: Acd, clock: FakeClock, ami: FakeAmi, link: AmiLink
) -> None:
    record = await reserved_callback(acd, clock)
    await dialler(acd, link)(record, Offer("8001", "PJSIP/8001"))
    await assert_declined(acd, "no answer")


async def test_the_dispatcher_runs_the_dialler_for_a_reserved_callback(
    acd: Acd, clock: FakeClock, ami: FakeAmi, link: AmiLink
) -> None:
    acd.callback_runner = dialler(acd, link)
    await reserved_callback(acd, clock)
    action = await ami.wait_for_action("Originate")
    assert action["Data"] == "agi://10.0.0.5:4573/callback,call-1"
    await eventually(lambda: acd.health()["callbacks_running"] == 0)


async def assert_declined(acd: Acd, detail: str) -> None:
    row = await call_row(acd, "call-1")
    assert row is not None
    assert (row.kind, row.state, row.reserved_agent) == ("callback", "waiting", None)
    assert row.call.declined_by == frozenset({"8001"})
    status = await agent_status(acd, "8001")
    assert (status.state, status.missed_in_row) == (AgentState.AVAILABLE, 1)
    last = (await queue_log(acd, "call-1"))[-1]
    assert (last["event"], last["agent_id"], last["detail"]) == ("ring-no-answer", "8001", detail)


async def test_a_refused_originate_puts_the_callback_back(
    acd: Acd, clock: FakeClock, ami: FakeAmi, link: AmiLink
) -> None:
    ami.answer_list("Originate", "OriginateResponse", error="Originate failed")
    record = await reserved_callback(acd, clock)
    await dialler(acd, link)(record, Offer("8001", "PJSIP/8001"))
    await assert_declined(acd, "originate: Originate failed")
    # the agent who did not answer is not offered it again
    assert (await acd.dispatcher.run_pass()).reserved == []


async def test_no_ami_link_puts_the_callback_back(
    acd: Acd, clock: FakeClock, link: AmiLink
) -> None:
    record = await reserved_callback(acd, clock)
    await link.stop()
    await dialler(acd, link)(record, Offer("8001", "PJSIP/8001"))
    await assert_declined(acd, "originate: AMI link is stopped")
