"""The AMI link against an AMI peer that sends garbage: the link stays up, memory stays
bounded, what cannot be read is dropped and counted, and good events still get through."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from panoramisk.message import Message
from pydantic import SecretStr

from ivr_engine.ami import AmiLink, LinkState
from ivr_engine.ami.protocol import MAX_MESSAGE_CHARS, IncrementalAmiProtocol
from ivr_engine.settings import AmiSettings
from tests.unit.ami.fake_ami import FakeAmi

CHUNK = 64 * 1024


class Counting:
    """Metrics that only count errors."""

    def __init__(self) -> None:
        self.errors: dict[str, int] = {}

    def agi_command(self, trace: Any) -> None: ...

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def acd_pass(self, seconds: float) -> None: ...

    def acd_decision(self, seconds: float) -> None: ...


def event(name: str, **fields: str) -> bytes:
    lines = [f"Event: {name}", *(f"{key}: {value}" for key, value in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    peer = FakeAmi()
    await peer.start()
    yield peer
    await peer.stop()


@pytest.fixture
async def link(ami: FakeAmi) -> AsyncIterator[tuple[AmiLink, Counting, list[Message]]]:
    metrics = Counting()
    settings = AmiSettings(
        host="127.0.0.1",
        port=ami.port,
        username="engine",
        secret=SecretStr(ami.secret),
        action_timeout=0.5,
        reconnect_min=0.05,
        reconnect_max=0.2,
    )
    link = AmiLink(settings, metrics=metrics)
    heard: list[Message] = []
    link.on_event("*", heard.append)
    link.start()
    assert await link.wait_connected(2.0)
    try:
        yield link, metrics, heard
    finally:
        await link.stop()


async def _heard(heard: list[Message], name: str, timeout: float = 2.0) -> Message:
    async with asyncio.timeout(timeout):
        while True:
            for message in heard:
                if message.get("Event") == name:
                    return message
            await asyncio.sleep(0.005)


async def _still_up(link: AmiLink, ami: FakeAmi) -> None:
    """The same session is up and answers actions."""
    assert link.state is LinkState.CONNECTED
    assert (await link.action({"Action": "Ping"})).success
    assert (ami.connections, link.reconnects) == (1, 0)


def _protocol(link: AmiLink) -> IncrementalAmiProtocol:
    manager: Any = link._manager
    assert manager is not None
    protocol: IncrementalAmiProtocol = manager.protocol
    return protocol


async def test_garbage_lines_and_binary_noise_are_ignored(
    ami: FakeAmi, link: tuple[AmiLink, Counting, list[Message]]
) -> None:
    ami_link, metrics, heard = link
    rng = random.Random(7)
    ami.send_raw(b"this is not AMI\r\n\r\n")
    ami.send_raw(b"no colon here\r\nnor here\r\n\r\n")
    ami.send_raw(rng.randbytes(20_000).replace(b"\r\n\r\n", b""))  # no end: dropped whole
    ami.send_raw(b"\r\n\r\n\r\n\r\n")
    ami.send_raw(b"\x00\x00: \x00\r\nEvent\r\n: :\r\n\r\n")
    ami.send_raw(event("Hangup", Uniqueid="1.1", Cause="16"))
    hangup = await _heard(heard, "Hangup")
    assert hangup["Uniqueid"] == "1.1"
    await _still_up(ami_link, ami)
    assert metrics.errors.get("ami_action", 0) == 0


async def test_an_event_that_never_ends_is_dropped_and_not_buffered(
    ami: FakeAmi, link: tuple[AmiLink, Counting, list[Message]]
) -> None:
    ami_link, metrics, heard = link
    ami.send_raw(b"Event: Flood\r\nPayload: ")
    for _ in range(64):  # 4 MiB with no blank line
        ami.send_raw(b"x" * CHUNK)
        await asyncio.sleep(0)
    await asyncio.sleep(0.1)
    protocol = _protocol(ami_link)
    assert len(protocol._buffer) <= MAX_MESSAGE_CHARS + CHUNK
    assert ami_link.bad_input == {"oversized": 1}
    assert metrics.errors["ami_protocol"] == 1
    assert ami_link.health()["bad_input"] == {"oversized": 1}
    ami.send_raw(b"still the same event\r\n\r\n")  # its end, at last
    ami.send_raw(event("FullyBooted", Status="Fully Booted"))
    await _heard(heard, "FullyBooted")
    assert not any(m.get("Event") == "Flood" for m in heard)
    await _still_up(ami_link, ami)


async def test_a_huge_header_value_drops_that_event_only(
    ami: FakeAmi, link: tuple[AmiLink, Counting, list[Message]]
) -> None:
    ami_link, _metrics, heard = link
    ami.send_raw(event("UserEvent", UserEvent="big", Data="y" * (1024 * 1024)))
    ami.send_raw(event("UserEvent", UserEvent="small", Data="ok"))
    small = await _heard(heard, "UserEvent")
    assert small["UserEvent"] == "small"
    assert ami_link.bad_input == {"oversized": 1}
    await _still_up(ami_link, ami)


async def test_split_multibyte_characters_and_invalid_utf8(
    ami: FakeAmi, link: tuple[AmiLink, Counting, list[Message]]
) -> None:
    ami_link, _metrics, heard = link
    good = event("Newchannel", CallerIDName="张三丰", Uniqueid="2.1")
    for cut in range(1, len(good)):  # every split point, the characters' bytes included
        heard.clear()
        ami.send_raw(good[:cut])
        await asyncio.sleep(0)
        ami.send_raw(good[cut:])
        assert (await _heard(heard, "Newchannel"))["CallerIDName"] == "张三丰"
    ami.send_raw(b"Event: Newchannel\r\nCallerIDName: \xff\xfe\xe5\x8c\r\nUniqueid: 2.2\r\n\r\n")
    await asyncio.sleep(0.05)
    odd = [m for m in heard if m.get("Uniqueid") == "2.2"]
    assert len(odd) == 1 and "\ufffd" in odd[0]["CallerIDName"]
    await _still_up(ami_link, ami)


async def test_unreadable_messages_are_dropped_and_counted_the_link_carries_on(
    ami: FakeAmi, link: tuple[AmiLink, Counting, list[Message]]
) -> None:
    """panoramisk raises on an event named twice or an ActionID given twice, which would
    end the connection; each is dropped and counted instead."""
    ami_link, metrics, heard = link
    ami.send_raw(b"Event: Hangup\r\nEvent: Hangup\r\nUniqueid: 3.1\r\n\r\n")
    ami.send_raw(b"Response: Success\r\nActionID: a\r\nActionID: b\r\n\r\n")
    ami.send_raw(event("UnknownToTheEngine", Anything="at all"))
    ami.send_raw(event("Hangup"))  # no headers the engine reads
    ami.send_raw(event("Hangup", Uniqueid="3.2"))
    await _heard(heard, "UnknownToTheEngine")
    await asyncio.sleep(0.05)
    assert [m.get("Uniqueid") for m in heard if m.get("Event") == "Hangup"] == [None, "3.2"]
    assert ami_link.bad_input == {"unreadable": 2}
    assert metrics.errors["ami_protocol"] == 2
    await _still_up(ami_link, ami)


async def test_a_handler_that_fails_on_odd_input_does_not_hurt_the_link(
    ami: FakeAmi, link: tuple[AmiLink, Counting, list[Message]]
) -> None:
    ami_link, _metrics, heard = link

    def fragile(message: Message) -> None:
        raise KeyError(message["Missing"])

    async def fragile_async(message: Message) -> None:
        raise ValueError(message.get("Event"))

    ami_link.on_event("Hangup", fragile)
    ami_link.on_event("Hangup", fragile_async)
    for n in range(50):
        ami.send_raw(event("Hangup", Uniqueid=f"4.{n}"))
    ami.send_raw(event("FullyBooted"))
    await _heard(heard, "FullyBooted")
    await asyncio.sleep(0.05)
    assert not ami_link._handler_tasks
    await _still_up(ami_link, ami)
