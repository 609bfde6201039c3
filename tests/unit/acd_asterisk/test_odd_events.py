"""The ACD's Asterisk side fed odd AMI input over a real link: events with missing,
doubled, empty or huge headers reach the device states without harm, and a channel list
that is garbled or lost an item on the way is refused, so no live call is taken for gone."""

from __future__ import annotations

import asyncio

import pytest

from acd.agents import STUCK_GRACE, AgentState
from acd.service.acd import Acd
from ivr_engine.acd_asterisk.channels import live_channels
from ivr_engine.acd_asterisk.devices import DeviceStates
from ivr_engine.acd_asterisk.eventlist import ListActionFailed
from ivr_engine.acd_asterisk.reconciler import Reconciler
from ivr_engine.ami import AmiLink
from tests.unit.acd_asterisk.scripted import FakeClock, agent_status
from tests.unit.acd_asterisk.support import eventually
from tests.unit.acd_asterisk.test_reconciler import channel, two_calls
from tests.unit.ami.fake_ami import FakeAmi

ODD_DEVICE_EVENTS: list[dict[str, str | list[str]]] = [
    {},  # no headers at all
    {"Device": "PJSIP/8001"},  # no state
    {"State": "INUSE"},  # no device
    {"Device": "PJSIP/8001", "State": ""},
    {"Device": "PJSIP/8001", "State": "   "},
    {"Device": "PJSIP/", "State": "INUSE"},
    {"Device": ["PJSIP/8001", "PJSIP/8002"], "State": "INUSE"},  # a header twice
    {"Device": "PJSIP/8001", "State": ["INUSE", "BUSY"]},
    {"Device": "PJSIP/8001\x00", "State": "INUSE\x00"},
    {"Device": "Queue:support", "State": "INUSE"},
    {"Device": "PJSIP/" + "9" * 100_000, "State": "INUSE"},  # huge, under the drop limit
    {"Device": "PJSIP/" + "8" * 300_000, "State": "INUSE"},  # over it: dropped on the way
]


async def test_odd_device_state_events_leave_the_known_states_right(
    ami: FakeAmi, link: AmiLink
) -> None:
    devices = DeviceStates()
    devices.attach(link)
    for fields in ODD_DEVICE_EVENTS:
        ami.send_raw(_event("DeviceStateChange", fields))
    ami.push_event("DeviceStateChange", Device="PJSIP/8003", State="RINGING")
    await eventually(lambda: devices.state("8003") == "RINGING")
    states = devices.snapshot()
    assert states.pop("8003") == "RINGING"
    assert states.pop("9" * 100_000) == "INUSE"
    # The NUL-suffixed name is a device no agent has; nothing else was taken for a state.
    assert set(states) <= {"8001\x00"}
    assert devices.state("8001") == "UNKNOWN" and devices.state("8002") == "UNKNOWN"
    assert link.bad_input == {"oversized": 1}
    assert (await link.action({"Action": "Ping"})).success


@pytest.mark.parametrize(
    "garbled",
    [
        {"Uniqueid": "1790000000.4", "ChannelStateDesc": "Up"},  # no channel name
        {"Channel": "PJSIP/8002-0000002b"},  # no unique id
        {"Channel": ["PJSIP/8002-0000002b", "PJSIP/8002-0000002c"], "Uniqueid": "1790000000.4"},
        {"Channel": "PJSIP/8002-0000002b", "Uniqueid": "1", "Data": "z" * 300_000},  # dropped
    ],
    ids=["no-channel", "no-uniqueid", "channel-twice", "item-dropped-on-the-way"],
)
async def test_a_garbled_channel_list_is_refused_and_nobody_is_repaired(
    acd: Acd,
    clock: FakeClock,
    ami: FakeAmi,
    link: AmiLink,
    garbled: dict[str, str | list[str]],
) -> None:
    await two_calls(acd, clock)  # 8001 and 8002 on calls
    ami.answer_list(
        "CoreShowChannels",
        "CoreShowChannel",
        [
            channel("PJSIP/callers-00000001", "1790000000.1"),
            channel("PJSIP/callers-00000002", "1790000000.2"),
            channel("PJSIP/8001-0000002a", "1790000000.3"),
            garbled,  # 8002's channel, unreadable
        ],
    )
    clock.advance(STUCK_GRACE + 1)
    with pytest.raises(ListActionFailed):
        await live_channels(link)
    reconciler = Reconciler(acd, link, DeviceStates(), interval=0.05)
    task = asyncio.create_task(reconciler.run())
    try:
        await eventually(lambda: reconciler.last_error is not None)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert reconciler.repairs == 0
    for agent in ("8001", "8002"):
        assert (await agent_status(acd, agent)).state is AgentState.ON_CALL


def _event(name: str, fields: dict[str, str | list[str]]) -> bytes:
    lines = [f"Event: {name}"]
    for key, value in fields.items():
        lines += [f"{key}: {item}" for item in (value if isinstance(value, list) else [value])]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
