"""What panoramisk returns for an event-list action, and how list_events reads it."""

from __future__ import annotations

import pytest
from panoramisk.message import Message

from ivr_engine.acd_asterisk.eventlist import ListActionFailed, list_events
from ivr_engine.ami import AmiLink, AmiUnavailable
from tests.unit.acd_asterisk.support import eventually
from tests.unit.ami.fake_ami import FakeAmi

ITEMS = [
    {"Device": "PJSIP/8001", "State": "INUSE"},
    {"Device": "PJSIP/8002", "State": "NOT_INUSE"},
]


async def test_panoramisk_resolves_a_list_as_response_items_and_complete(
    ami: FakeAmi, link: AmiLink
) -> None:
    ami.answer_list("DeviceStateList", "DeviceStateChange", ITEMS)
    answer = await link.action({"Action": "DeviceStateList"}, timeout=1.0)
    assert isinstance(answer, list)
    assert [m.get("Response") or m.get("Event") for m in answer] == [
        "Success",
        "DeviceStateChange",
        "DeviceStateChange",
        "DeviceStateListComplete",
    ]
    assert answer[0]["EventList"] == "start"
    assert answer[-1]["ListItems"] == "2"


async def test_list_events_returns_the_items_in_order(ami: FakeAmi, link: AmiLink) -> None:
    ami.answer_list("DeviceStateList", "DeviceStateChange", ITEMS)
    events = await list_events(link, {"Action": "DeviceStateList"}, "DeviceStateChange", 1.0)
    assert [(e["Device"], e["State"]) for e in events] == [
        ("PJSIP/8001", "INUSE"),
        ("PJSIP/8002", "NOT_INUSE"),
    ]


async def test_an_empty_list_is_empty(ami: FakeAmi, link: AmiLink) -> None:
    ami.answer_list("DeviceStateList", "DeviceStateChange", [])
    assert await list_events(link, {"Action": "DeviceStateList"}, "DeviceStateChange", 1.0) == []


async def test_list_items_do_not_reach_event_handlers(ami: FakeAmi, link: AmiLink) -> None:
    heard: list[Message] = []
    link.on_event("DeviceStateChange", heard.append)
    ami.answer_list("DeviceStateList", "DeviceStateChange", ITEMS)
    await list_events(link, {"Action": "DeviceStateList"}, "DeviceStateChange", 1.0)
    ami.push_event("DeviceStateChange", Device="PJSIP/8003", State="BUSY")
    await eventually(lambda: bool(heard))
    assert [e["Device"] for e in heard] == ["PJSIP/8003"]


async def test_a_list_that_never_completes_times_out(ami: FakeAmi, link: AmiLink) -> None:
    ami.answer_list("DeviceStateList", "DeviceStateChange", ITEMS, complete=False)
    with pytest.raises(AmiUnavailable, match="timed out"):
        await list_events(link, {"Action": "DeviceStateList"}, "DeviceStateChange", 0.2)


async def test_a_refused_list_raises_with_the_reason(ami: FakeAmi, link: AmiLink) -> None:
    ami.answer_list("DeviceStateList", "DeviceStateChange", error="Permission denied")
    with pytest.raises(ListActionFailed, match="Permission denied"):
        await list_events(link, {"Action": "DeviceStateList"}, "DeviceStateChange", 1.0)
    assert issubclass(ListActionFailed, AmiUnavailable)
