"""The session's per-command deadlines (one timer per session, moved only when needed) and
the server reading the header block whole from the socket's data."""

from __future__ import annotations

import asyncio

import pytest

from ivr_engine.agi.errors import AgiProtocolError, AgiTimeout
from ivr_engine.agi.metrics import CommandTrace
from ivr_engine.agi.protocol import header_block_end, parse_header_block
from ivr_engine.agi.server import FastAgiServer
from ivr_engine.agi.session import AgiSession
from tests.unit.agi.conftest import Call
from tests.unit.agi.peer import HEADERS, AsteriskPeer, header_block, make_settings, until_closed

# -- deadlines ------------------------------------------------------------------------------


async def test_a_short_timeout_after_a_long_one_still_ends_the_command(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=0")
    await session.answer(timeout=30.0)  # arms the session's timer 30 s ahead
    assert await peer.command() == "ANSWER"
    with pytest.raises(AgiTimeout):
        await asyncio.wait_for(session.get_variable("X", timeout=0.1), 5.0)
    assert session.broken


async def test_a_long_command_outlives_the_timer_of_a_shorter_one(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=0")
    await session.answer(timeout=0.1)  # the timer is armed for 0.1 s from now
    assert await peer.command() == "ANSWER"
    task = asyncio.create_task(session.get_variable("X", timeout=2.0))
    assert await peer.command() == 'GET VARIABLE "X"'
    await asyncio.sleep(0.3)  # the old timer has fired meanwhile: it must not end this one
    await peer.send("200 result=1 (late but in time)")
    assert await task == "late but in time"
    assert session.usable


async def test_each_command_gets_its_own_deadline(call: Call) -> None:
    session, peer = call
    for n in range(3):  # three commands, each answered after most of its timeout
        task = asyncio.create_task(session.get_variable(f"V{n}", timeout=0.4))
        assert await peer.command() == f'GET VARIABLE "V{n}"'
        await asyncio.sleep(0.25)
        await peer.send(f"200 result=1 ({n})")
        assert await task == str(n)


async def test_a_timeout_never_ends_a_command_before_its_time(call: Call) -> None:
    session, _ = call
    traces: list[CommandTrace] = []
    session.observer = traces.append
    with pytest.raises(AgiTimeout):
        await session.get_variable("X", timeout=0.15)
    [trace] = traces
    assert trace.error_type is AgiTimeout
    assert trace.duration >= 0.15


async def test_release_stops_the_deadline_timer(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=0")
    await session.answer(timeout=60.0)
    session.release()
    assert session._timer is None  # nothing keeps the session alive for a minute


# -- the header block -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "end"),
    [
        (b"agi_network: yes\n", None),
        (b"agi_network: yes\nagi_type: PJSIP\n\nHANGUP\n", (33, 34)),
        (b"agi_network: yes\r\n\r\n", (18, 20)),
        (b"agi_a: 1\n\r\nagi_b: 2\n\n", (9, 11)),  # the first blank line ends it
        (b"\n", (0, 1)),
        (b"\r\nagi_a: 1\n\n", (0, 2)),
    ],
)
def test_where_the_header_block_ends(data: bytes, end: tuple[int, int] | None) -> None:
    assert header_block_end(data) == end


def test_a_header_block_parses_with_either_line_ending() -> None:
    assert parse_header_block(b"agi_network: yes\r\nagi_arg_1: a: b\n") == {
        "agi_network": "yes",
        "agi_arg_1": "a: b",
    }


@pytest.mark.parametrize(
    "block", [b"", b"GET / HTTP/1.1\r\n", b"agi_network: \xff\xfe\n", b"agi_x yes\n"]
)
def test_a_bad_header_block_is_garbage(block: bytes) -> None:
    with pytest.raises(AgiProtocolError) as caught:
        parse_header_block(block)
    assert caught.value.kind == "garbage"


async def _serve_one(chunks: list[bytes]) -> tuple[dict[str, str], list[str], list[bytes]]:
    """Send ``chunks`` one by one; return the headers the session saw, what its first
    command read, and what the server wrote."""
    seen: dict[str, str] = {}
    replies: list[str] = []

    async def route(session: AgiSession) -> None:
        seen.update(session.headers)
        replies.append(await session.get_variable("X") or "")

    server = FastAgiServer(make_settings(), {"ivr/main": route})
    await server.start()
    try:
        peer = await AsteriskPeer.connect(server.port)
        for chunk in chunks:
            await peer.send_raw(chunk)
            await asyncio.sleep(0.01)
        written = await until_closed(peer)
    finally:
        await server.stop(grace=0)
    return seen, replies, written


async def test_a_header_block_in_pieces_and_a_reply_in_the_same_packet() -> None:
    block = header_block()
    middle = len(block) // 2
    # Asterisk's reply arrives glued to the end of the header block: it must reach the
    # session's first command, not be lost with the header bytes.
    seen, replies, written = await _serve_one(
        [block[:5], block[5:middle], block[middle:] + b"200 result=1 (glued)\n"]
    )
    assert seen == HEADERS
    assert replies == ["glued"]
    assert written == [b'GET VARIABLE "X"\n']
