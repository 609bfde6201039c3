"""The AMI protocol's own framing: every message comes out once, whole and in order,
however the stream is cut into chunks (many messages to a chunk, a separator cut in two)."""

from __future__ import annotations

from typing import Any

import pytest

from ivr_engine.ami.protocol import IncrementalAmiProtocol

MESSAGES = [
    {
        "Event": "Newchannel",
        "Uniqueid": f"1767225600.{n}",
        "CallerIDName": "张伟" if n % 3 else "<unknown>",
    }
    for n in range(40)
]
STREAM = "".join(
    "".join(f"{key}: {value}\r\n" for key, value in message.items()) + "\r\n"
    for message in MESSAGES
).encode()


class _Factory:
    save_stream = None

    def __init__(self) -> None:
        self.events: list[Any] = []

    def dispatch(self, message: Any) -> None:
        self.events.append(message)


def _received(chunks: list[bytes]) -> list[dict[str, str]]:
    protocol = IncrementalAmiProtocol()
    factory = _Factory()
    protocol.connection_made(transport=None)
    protocol.factory = factory
    protocol.version = "9.0"
    for chunk in chunks:
        protocol.data_received(chunk)
    return [
        {"Event": e["Event"], "Uniqueid": e["Uniqueid"], "CallerIDName": e["CallerIDName"]}
        for e in factory.events
    ]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 64, 333, len(STREAM)])
def test_every_message_once_in_order_whatever_the_chunks(size: int) -> None:
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert _received(chunks) == MESSAGES


def test_a_separator_cut_at_each_of_its_bytes() -> None:
    first_end = STREAM.index(b"\r\n\r\n")
    for cut in range(first_end, first_end + 5):
        assert _received([STREAM[:cut], STREAM[cut:]]) == MESSAGES


def test_the_rest_after_the_last_message_waits_for_its_end() -> None:
    last = STREAM.rindex(b"Event:")
    assert _received([STREAM[: last + 10]]) == MESSAGES[:-1]
    assert _received([STREAM[: last + 10], STREAM[last + 10 :]]) == MESSAGES
