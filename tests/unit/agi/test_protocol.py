"""The wire format: header block limits, reply parsing, reply reading, quoting."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from ivr_engine.agi.errors import AgiProtocolError, AgiTimeout, CallerHangup
from ivr_engine.agi.protocol import AgiReply, parse_reply, quote, read_headers, read_reply
from tests.unit.agi.peer import HEADERS, header_block


def fed(data: bytes, *, eof: bool = True, limit: int = 64 * 1024) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=limit)
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


# -- header block ------------------------------------------------------------------------


async def test_headers_parsed_up_to_the_blank_line() -> None:
    reader = fed(header_block() + b"200 result=0\n")
    headers = await read_headers(reader, timeout=1.0, max_bytes=16384)
    assert headers == HEADERS
    assert headers["agi_accountcode"] == ""
    assert await reader.readline() == b"200 result=0\n"  # nothing read past the block


async def test_headers_accept_crlf() -> None:
    headers = await read_headers(fed(b"agi_network: yes\r\nagi_arg_1: a: b\r\n\r\n"), 1.0, 4096)
    assert headers == {"agi_network": "yes", "agi_arg_1": "a: b"}


@pytest.mark.parametrize("data", [b"", b"agi_network: yes\nagi_chan", b"agi_network: yes\n"])
async def test_eof_inside_the_header_block_is_truncated(data: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(AgiProtocolError) as caught:
        await read_headers(fed(data), timeout=5.0, max_bytes=16384)
    assert caught.value.kind == "truncated"
    assert time.monotonic() - started < 0.5


async def test_block_larger_than_max_bytes_is_oversized() -> None:
    block = "".join(f"agi_arg_{n}: {'x' * 90}\n" for n in range(1, 40)).encode() + b"\n"
    assert len(block) > 2048
    with pytest.raises(AgiProtocolError) as caught:
        await read_headers(fed(block, eof=False), timeout=1.0, max_bytes=2048)
    assert caught.value.kind == "oversized"


async def test_line_longer_than_the_stream_limit_is_oversized() -> None:
    reader = fed(b"agi_network: " + b"y" * 10_000, eof=False, limit=4096)
    with pytest.raises(AgiProtocolError) as caught:
        await read_headers(reader, timeout=1.0, max_bytes=2048)
    assert caught.value.kind == "oversized"


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"agi_network: yes\nnot a header\n\n",
        b"agi_callerid: \xff\xfe\n\n",
        b"\n",
    ],
    ids=["http", "not-agi-line", "not-utf8", "empty-block"],
)
async def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(AgiProtocolError) as caught:
        await read_headers(fed(data, eof=False), timeout=1.0, max_bytes=2048)
    assert caught.value.kind == "garbage"


async def test_stalled_header_block_times_out() -> None:
    with pytest.raises(AgiTimeout):
        await read_headers(fed(b"agi_network: yes\n", eof=False), timeout=0.2, max_bytes=2048)


async def test_slowloris_is_cut_at_one_deadline_for_the_whole_block() -> None:
    reader = asyncio.StreamReader()

    async def trickle() -> None:
        # A byte every 5 ms: a complete line every ~70 ms, so a per-line timeout would never
        # fire, but the block never ends.
        for n in itertools.count(1):
            for byte in f"agi_arg_{n}: x\n".encode():
                reader.feed_data(bytes([byte]))
                await asyncio.sleep(0.005)

    reader.feed_data(b"agi_network: yes\n")
    trickler = asyncio.create_task(trickle())
    started = time.monotonic()
    try:
        with pytest.raises(AgiTimeout):
            await read_headers(reader, timeout=0.3, max_bytes=16384)
    finally:
        trickler.cancel()
    elapsed = time.monotonic() - started
    assert 0.29 <= elapsed < 0.6


# -- replies -----------------------------------------------------------------------------

DEAD = "Not Permitted on a dead channel"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("200 result=53 endpos=1234", AgiReply(200, "53", "", {"endpos": "1234"}, "")),
        ("200 result=1 (hello)", AgiReply(200, "1", "hello", {}, "")),
        ("200 result= (timeout)", AgiReply(200, "", "timeout", {}, "")),
        ("200 result=0", AgiReply(200, "0", "", {}, "")),
        ("200 result=-1 endpos=0", AgiReply(200, "-1", "", {"endpos": "0"}, "")),
        ("200 result=1 (a (b) c)", AgiReply(200, "1", "a (b) c", {}, "")),
        ("200 result=0 (dtmf) endpos=160", AgiReply(200, "0", "dtmf", {"endpos": "160"}, "")),
        ("200 result=1 ()", AgiReply(200, "1", "", {}, "")),
        ("510 Invalid or unknown command", AgiReply(510, "", "Invalid or unknown command", {}, "")),
        ("511 Not Permitted on a dead channel", AgiReply(511, "", DEAD, {}, "")),
    ],
)
def test_parse_reply(line: str, expected: AgiReply) -> None:
    reply = parse_reply(line)
    assert (reply.code, reply.result, reply.data, reply.extras) == (
        expected.code,
        expected.result,
        expected.data,
        expected.extras,
    )
    assert reply.raw == line


def test_parse_reply_keeps_an_unusual_tail_as_data() -> None:
    reply = parse_reply('200 result=1 (speech) endpos=9 text0="two words"')
    assert (reply.result, reply.data) == ("1", '(speech) endpos=9 text0="two words"')


@pytest.mark.parametrize("line", ["hello", "", "200 ok", "20 result=1"])
def test_parse_reply_refuses_garbage(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        parse_reply(line)


async def test_read_reply_skips_100_trying() -> None:
    reply, hangup = await read_reply(fed(b"100 result=0 Trying...\n200 result=1\n"), 1.0)
    assert (reply.code, reply.result, hangup) == (200, "1", False)


async def test_read_reply_consumes_the_whole_520_usage_block() -> None:
    reader = fed(
        b"520-Invalid command syntax.  Proper usage follows:\n"
        b" Usage: STREAM FILE <filename> <escape_digits> [sample offset]\n"
        b"   Send the given file.\n"
        b"520 End of proper usage.\n"
        b"200 result=0\n"
    )
    reply, _ = await read_reply(reader, 1.0)
    assert reply.code == 520
    assert reply.data.startswith("Invalid command syntax.")
    assert "Usage: STREAM FILE" in reply.data
    assert "End of proper usage" not in reply.data
    nxt, _ = await read_reply(reader, 1.0)
    assert (nxt.code, nxt.result) == (200, "0")


async def test_read_reply_notes_hangup_and_returns_the_real_reply() -> None:
    reader = fed(b"HANGUP\n200 result=1 (first)\n200 result=1 (second)\n")
    reply, hangup = await read_reply(reader, 1.0)
    assert (reply.data, hangup) == ("first", True)
    reply, hangup = await read_reply(reader, 1.0)
    assert (reply.data, hangup) == ("second", False)


async def test_read_reply_eof_is_a_hangup() -> None:
    with pytest.raises(CallerHangup):
        await read_reply(fed(b"HANGUP\n"), 1.0)
    with pytest.raises(CallerHangup):
        await read_reply(fed(b"200 resu"), 1.0)


async def test_read_reply_times_out() -> None:
    with pytest.raises(AgiTimeout):
        await read_reply(fed(b"200 resu", eof=False), 0.1)


async def test_read_reply_refuses_garbage() -> None:
    with pytest.raises(AgiProtocolError) as caught:
        await read_reply(fed(b"<html>\n"), 1.0)
    assert caught.value.kind == "garbage"


# -- quoting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("plain", '"plain"'),
        ("", '""'),
        ("two words", '"two words"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
    ],
)
def test_quote(value: str, quoted: str) -> None:
    assert quote(value) == quoted


@pytest.mark.parametrize("value", ["a\nHANGUP", "a\rb", "a\0b"])
def test_quote_refuses_line_breaks(value: str) -> None:
    with pytest.raises(ValueError):
        quote(value)
