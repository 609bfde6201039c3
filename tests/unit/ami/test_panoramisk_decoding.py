"""panoramisk drops a multibyte character split across TCP chunks; our protocol keeps it."""

from __future__ import annotations

from typing import Any

from panoramisk.ami_protocol import AMIProtocol

from ivr_engine.ami.protocol import IncrementalAmiProtocol

EVENT = "Event: Newchannel\r\nCallerIDName: 张三\r\n\r\n".encode()
SPLIT = EVENT.index("张".encode()) + 1  # inside the first character's three bytes


class _Factory:
    save_stream = None

    def __init__(self) -> None:
        self.events: list[Any] = []

    def dispatch(self, message: Any) -> None:
        self.events.append(message)


def _feed(protocol: AMIProtocol) -> str:
    factory = _Factory()
    protocol.connection_made(transport=None)
    protocol.factory = factory
    protocol.encoding = "utf-8"
    protocol.version = "9.0"
    protocol.data_received(EVENT[:SPLIT])
    protocol.data_received(EVENT[SPLIT:])
    assert len(factory.events) == 1
    return str(factory.events[0]["CallerIDName"])


def test_panoramisk_loses_a_character_split_across_chunks() -> None:
    assert _feed(AMIProtocol()) == "三"


def test_incremental_protocol_keeps_it() -> None:
    assert _feed(IncrementalAmiProtocol()) == "张三"
