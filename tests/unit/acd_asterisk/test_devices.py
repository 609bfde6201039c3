"""Agent device states from DeviceStateChange events and the DeviceStateList action."""

from __future__ import annotations

import asyncio

import pytest

from ivr_engine.acd_asterisk.devices import DeviceStates, agent_of_device
from ivr_engine.ami import AmiLink, AmiUnavailable
from tests.unit.acd_asterisk.support import eventually
from tests.unit.ami.fake_ami import FakeAmi

NOT_FREE = ["INUSE", "BUSY", "INVALID", "UNAVAILABLE", "RINGING", "RINGINUSE", "ONHOLD"]


def _event(device: str, state: str) -> dict[str, str]:
    return {"Event": "DeviceStateChange", "Device": device, "State": state}


def test_agent_ids_are_pjsip_endpoint_names() -> None:
    assert agent_of_device("PJSIP/8001") == "8001"
    assert agent_of_device("PJSIP/agent-7") == "agent-7"
    for other in ["SIP/8001", "Queue:support_avail", "Custom:8001", "Local/8001@agents", "PJSIP/"]:
        assert agent_of_device(other) is None


def test_a_never_seen_agent_is_unknown_and_free() -> None:
    devices = DeviceStates()
    assert devices.state("8001") == "UNKNOWN"
    assert devices.reachable_and_free("8001")
    assert devices.unfit() == frozenset()


@pytest.mark.parametrize("state", ["NOT_INUSE", "UNKNOWN"])
def test_free_states(state: str) -> None:
    devices = DeviceStates()
    devices.handle_event(_event("PJSIP/8001", "INUSE"))
    devices.handle_event(_event("PJSIP/8001", state))
    assert devices.state("8001") == state
    assert devices.reachable_and_free("8001")
    assert devices.unfit() == frozenset()


@pytest.mark.parametrize("state", [*NOT_FREE, "SOMETHING_NEW"])
def test_states_that_keep_the_phone_from_ringing(state: str) -> None:
    devices = DeviceStates()
    devices.handle_event(_event("PJSIP/8001", state))
    devices.handle_event(_event("PJSIP/8002", "NOT_INUSE"))
    assert not devices.reachable_and_free("8001")
    assert devices.reachable_and_free("8002")
    assert devices.unfit() == {"8001"}


def test_other_devices_and_incomplete_events_are_ignored() -> None:
    devices = DeviceStates()
    devices.handle_event(_event("SIP/8001", "INUSE"))
    devices.handle_event(_event("Queue:support_avail", "INUSE"))
    devices.handle_event(_event("Custom:8001", "BUSY"))
    devices.handle_event(_event("PJSIP/", "BUSY"))
    devices.handle_event({"Event": "DeviceStateChange", "Device": "PJSIP/8001"})
    devices.handle_event({"Event": "DeviceStateChange", "State": "BUSY"})
    assert devices.snapshot() == {}
    assert devices.state("8001") == "UNKNOWN"


async def test_events_from_the_link_update_states(ami: FakeAmi, link: AmiLink) -> None:
    devices = DeviceStates()
    devices.attach(link)
    ami.push_event("DeviceStateChange", Device="PJSIP/8001", State="RINGING")
    ami.push_event("DeviceStateChange", Device="Queue:sales_avail", State="INUSE")
    ami.push_event("DeviceStateChange", Device="PJSIP/8002", State="INUSE")
    await eventually(lambda: devices.state("8002") == "INUSE")
    assert devices.snapshot() == {"8001": "RINGING", "8002": "INUSE"}
    ami.push_event("DeviceStateChange", Device="PJSIP/8001", State="NOT_INUSE")
    await eventually(lambda: devices.state("8001") == "NOT_INUSE")
    assert devices.unfit() == {"8002"}


async def test_refresh_replaces_stale_state(ami: FakeAmi, link: AmiLink) -> None:
    devices = DeviceStates()
    devices.handle_event(_event("PJSIP/8001", "INUSE"))
    devices.handle_event(_event("PJSIP/8002", "BUSY"))
    ami.answer_list(
        "DeviceStateList",
        "DeviceStateChange",
        [
            {"Device": "PJSIP/8001", "State": "NOT_INUSE"},
            {"Device": "PJSIP/8003", "State": "UNAVAILABLE"},
            {"Device": "Custom:night", "State": "INUSE"},
        ],
    )
    await devices.refresh(link, timeout=1.0)
    assert devices.snapshot() == {"8001": "NOT_INUSE", "8003": "UNAVAILABLE"}
    assert devices.state("8002") == "UNKNOWN"
    assert devices.unfit() == {"8003"}


async def test_events_heard_during_a_refresh_win_over_the_list(ami: FakeAmi, link: AmiLink) -> None:
    devices = DeviceStates()
    devices.attach(link)
    ami.answer_list(
        "DeviceStateList",
        "DeviceStateChange",
        [
            {"Device": "PJSIP/8001", "State": "NOT_INUSE"},
            {"Device": "PJSIP/8002", "State": "NOT_INUSE"},
        ],
        complete=False,
    )
    refresh = asyncio.create_task(devices.refresh(link, timeout=1.0))
    await ami.wait_for_action("DeviceStateList")
    ami.push_event("DeviceStateChange", Device="PJSIP/8001", State="RINGING")
    await eventually(lambda: devices.state("8001") == "RINGING")
    ami.finish_list("DeviceStateList")
    await refresh
    assert devices.snapshot() == {"8001": "RINGING", "8002": "NOT_INUSE"}


async def test_a_refresh_that_never_completes_raises_and_keeps_the_state(
    ami: FakeAmi, link: AmiLink
) -> None:
    devices = DeviceStates()
    devices.handle_event(_event("PJSIP/8001", "INUSE"))
    ami.answer_list(
        "DeviceStateList",
        "DeviceStateChange",
        [{"Device": "PJSIP/8001", "State": "NOT_INUSE"}],
        complete=False,
    )
    with pytest.raises(AmiUnavailable, match="timed out"):
        await devices.refresh(link, timeout=0.2)
    assert devices.snapshot() == {"8001": "INUSE"}


async def test_a_refused_refresh_raises(ami: FakeAmi, link: AmiLink) -> None:
    devices = DeviceStates()
    ami.answer_list("DeviceStateList", "DeviceStateChange", error="Permission denied")
    with pytest.raises(AmiUnavailable, match="Permission denied"):
        await devices.refresh(link, timeout=1.0)


async def test_refresh_while_the_link_is_down_raises(link: AmiLink) -> None:
    await link.stop()
    with pytest.raises(AmiUnavailable):
        await DeviceStates().refresh(link)
