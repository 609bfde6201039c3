"""FastAgiServer fuzzed over real TCP: hostile headers and replies, stalls, cut connections.

A fixed number of generated connections (seeded, so a failure can be replayed) hit one
server while good calls keep running beside them: random bytes, truncated, oversized and
endless header blocks, NUL bytes and invalid UTF-8, replies that are garbage, cut,
oversized, of unknown codes or preceded by ``HANGUP``, peers that stall mid-header or
mid-reply, and a recorded good session cut at every byte offset. Throughout, the event
loop must stay responsive; afterwards a good call must still work, and nothing may be left
behind: no live session, no task, no open connection, every connection counted once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import stat
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

import pytest

from ivr_engine.agi.server import FastAgiServer
from ivr_engine.agi.session import AgiSession
from tests.unit.agi.peer import (
    HEADERS,
    AsteriskPeer,
    Ticker,
    eventually,
    fake_call,
    header_block,
    make_settings,
)

SEED = 20250616
CONNECTIONS = 360  # generated hostile connections per run
AT_ONCE = 40  # of them in flight together
MAX_LAG = 0.5  # seconds: a bound on blocking (a busy machine can delay any loop), not speed
# Deadlines long enough for a good call on a loaded machine, short enough for the stalls.
COMMAND_TIMEOUT = 1.0
HEADER_TIMEOUT = 0.5
STALL = 1.2  # longer than both
MAX_HEADER_BYTES = 2048
BIG_LINE = 70 * 1024  # longer than the session's stream limit (64 KiB)

GOOD_REPLIES = {
    "ANSWER": "200 result=0",
    'GET VARIABLE "CHANNEL(language)"': "200 result=1 (zh)",
    'STREAM FILE "hotline/welcome" "0123456789*#" 0': "200 result=0 endpos=8000",
    "WAIT FOR DIGIT 500": "200 result=49",
    'GET DATA "hotline/enter" 500 8': "200 result=1234 (timeout)",
    'SET VARIABLE "IVR_KEYS" "1:1234"': "200 result=1",
}
EXPECTED = list(GOOD_REPLIES)


async def hotline_like(session: AgiSession) -> None:
    """What a hotline call does over FastAGI: answer, read, play, wait, collect, set."""
    await session.answer()
    await session.get_variable("CHANNEL(language)")
    key = await session.stream_file("hotline/welcome", "0123456789*#")
    if key is None:
        key = await session.wait_for_digit(500)
    digits, _ = await session.get_data("hotline/enter", 500, 8)
    await session.set_variable("IVR_KEYS", f"{key}:{digits}")


def good(command: str) -> list[str]:
    return [GOOD_REPLIES.get(command, "200 result=1")]


# -- hostile peers ------------------------------------------------------------------------


@dataclass
class Send:
    data: bytes


@dataclass
class Reply:
    """Wait for the engine's next command, then send ``data``."""

    data: bytes


@dataclass
class Stall:
    seconds: float


Action = Send | Reply | Stall


def _header(**changes: str) -> bytes:
    return header_block({**HEADERS, "agi_network_script": "hotline", **changes})


GOOD_HEADER = _header()
GOOD_SESSION = [GOOD_HEADER, *[(line + "\n").encode() for line in GOOD_REPLIES.values()]]


def _garbage(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size)


def _hostile_header(rng: random.Random) -> list[Action]:
    kind = rng.randrange(9)
    if kind == 0:  # random bytes, maybe with line breaks
        return [Send(_garbage(rng, rng.randrange(1, 4000)))]
    if kind == 1:  # cut anywhere
        return [Send(GOOD_HEADER[: rng.randrange(len(GOOD_HEADER))])]
    if kind == 2:  # a NUL byte somewhere
        at = rng.randrange(len(GOOD_HEADER) - 1)
        return [Send(GOOD_HEADER[:at] + b"\x00" + GOOD_HEADER[at:])]
    if kind == 3:  # invalid UTF-8 in a value
        return [Send(GOOD_HEADER.replace(b"Alice", b"Al\xff\xfe\xc3"))]
    if kind == 4:  # one value far over the limit
        return [Send(_header(agi_arg_1="x" * (MAX_HEADER_BYTES * rng.randrange(1, 40))))]
    if kind == 5:  # header lines that never end
        lines = b"".join(f"agi_arg_{n}: {'y' * 50}\n".encode() for n in range(1, 200))
        return [Send(lines), Stall(0.05), Send(lines)]
    if kind == 6:  # a good start, then nothing (stall past the header deadline)
        return [Send(GOOD_HEADER[: rng.randrange(1, len(GOOD_HEADER) - 1)]), Stall(STALL)]
    if kind == 7:  # a byte at a time, slowly
        slow: list[Action] = [Send(bytes([byte])) for byte in GOOD_HEADER[:40]]
        return [*slow, Stall(STALL)]
    return [Send(b"agi_network: yes\r\n" + _garbage(rng, 200) + b"\n\n")]  # garbage lines


def _hostile_reply(rng: random.Random) -> list[Action]:
    kind = rng.randrange(16)
    if kind == 0:
        return [Reply(_garbage(rng, rng.randrange(1, 300)) + b"\n")]
    if kind == 1:  # cut mid-reply, then the peer goes away
        return [Reply(b"200 resu")]
    if kind == 2:  # a line longer than the stream limit, with and without its end
        return [Reply(b"200 result=" + b"9" * BIG_LINE + (b"\n" if rng.random() < 0.5 else b""))]
    if kind == 3:
        return [Reply(rng.choice([b"999 what\n", b"000\n", b"20 result=1\n", b"2000 result=1\n"]))]
    if kind == 4:  # HANGUP before the reply, or instead of it
        return [Reply(rng.choice([b"HANGUP\n200 result=0\n", b"HANGUP\n", b"HANGUP\nHANGUP\n"]))]
    if kind == 5:  # no reply at all: the command's deadline
        return [Reply(b""), Stall(STALL)]
    if kind == 6:  # "trying" forever
        return [Reply(b"100 Trying...\n" * rng.randrange(1, 500))]
    if kind == 7:  # a usage block that never ends
        return [Reply(b"520-Invalid command syntax.\n" + b"usage line\n" * 300)]
    if kind == 8:
        return [Reply(b"510 Invalid or unknown command\n")]
    if kind == 9:
        return [Reply(b"511 Command Not Permitted on a dead channel\n")]
    if kind == 10:  # a result that is 10,000 digits
        return [Reply(b"200 result=" + b"7" * 10_000 + b"\n")]
    if kind == 11:
        return [Reply(b"200 result=\x00\x00 (\xff\xfe)\n")]
    if kind == 12:  # a reply split across writes, with a stall inside
        return [Reply(b"200 res"), Stall(0.05), Send(b"ult=0\n")]
    if kind == 13:  # many replies at once, ahead of the commands
        return [Reply(b"200 result=0\n" * 50)]
    if kind == 14:
        return [Reply(b"200 result=1 (" + b"(" * 5000 + b"\n")]
    return [Reply(b"200 result=-1\n")]


def hostile(rng: random.Random) -> list[Action]:
    """One generated hostile connection: a bad header, or a good one and bad replies."""
    if rng.random() < 0.4:
        return _hostile_header(rng)
    actions: list[Action] = [Send(GOOD_HEADER)]
    for command in range(len(EXPECTED)):
        if rng.random() < 0.35:
            actions += _hostile_reply(rng)
            if rng.random() < 0.6:
                break
        else:
            actions.append(Reply((list(GOOD_REPLIES.values())[command] + "\n").encode()))
    return actions


async def play(port: int, actions: list[Action]) -> None:
    """Run one hostile peer to its end, then close; the engine may close first."""
    peer = await AsteriskPeer.connect(port)
    try:
        async with asyncio.timeout(10):
            for action in actions:
                if isinstance(action, Stall):
                    await asyncio.sleep(action.seconds)
                    continue
                if isinstance(action, Reply):
                    line = await peer.reader.readline()
                    if not line:
                        return  # the engine closed the connection
                await peer.send_raw(action.data)
    except (ConnectionError, TimeoutError):
        pass
    finally:
        await peer.close()


async def cut_after(port: int, offset: int) -> None:
    """The recorded good session, the peer closing after ``offset`` bytes."""
    peer = await AsteriskPeer.connect(port)
    sent = 0
    try:
        for n, chunk in enumerate(GOOD_SESSION):
            if n > 0 and not await peer.reader.readline():
                return
            part = chunk[: max(0, offset - sent)]
            if part:
                await peer.send_raw(part)
            sent += len(part)
            if sent >= offset:
                return
    except ConnectionError:
        pass
    finally:
        await peer.close()


# -- the server and what it must leave behind ---------------------------------------------


def _open_sockets() -> int:
    count = 0
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if stat.S_ISSOCK(os.stat(f"/proc/self/fd/{name}").st_mode):
                count += 1
    return count


@contextlib.asynccontextmanager
async def fuzzed_server() -> AsyncIterator[FastAgiServer]:
    server = FastAgiServer(
        make_settings(
            command_timeout=COMMAND_TIMEOUT,
            header_timeout=HEADER_TIMEOUT,
            max_header_bytes=MAX_HEADER_BYTES,
        ),
        {"hotline": hotline_like},
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=0)


async def _nothing_left(server: FastAgiServer, baseline: set[asyncio.Task[object]]) -> None:
    stats = server.stats
    await eventually(lambda: stats.live_sessions == 0 and not server._tasks, timeout=3.0)
    await eventually(lambda: not server._opening, timeout=3.0)
    assert all(count == 0 for count in stats.live_by_route.values()), stats.live_by_route
    ended = (
        stats.sessions_completed
        + stats.caller_hangups
        + stats.handler_errors
        + stats.no_route
        + stats.turned_away
        + stats.sessions_cancelled
    )
    assert stats.sessions_started == ended, stats.as_dict()
    bad = sum(stats.bad_connections.values())
    assert stats.connections_accepted == stats.sessions_started + bad, stats.as_dict()
    await eventually(lambda: asyncio.all_tasks() <= baseline, timeout=3.0)


async def _in_batches(jobs: Sequence[Callable[[], Awaitable[None]]], at_once: int) -> None:
    for start in range(0, len(jobs), at_once):
        await asyncio.gather(*(job() for job in jobs[start : start + at_once]))


def _no_bugs_logged(caplog: pytest.LogCaptureFixture) -> None:
    bugs = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR
        and (r.name == "asyncio" or "connection failed" in r.getMessage())
    ]
    assert not bugs, [r.getMessage() for r in bugs]


async def test_generated_hostile_connections_leave_the_server_responsive_and_clean(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    baseline: set[asyncio.Task[object]] = set(asyncio.all_tasks())
    sockets_before = _open_sockets()
    rng = random.Random(SEED)
    scripts = [hostile(rng) for _ in range(CONNECTIONS)]
    async with fuzzed_server() as server:
        port = server.port
        good_calls: list[list[str]] = []
        stop = asyncio.Event()

        async def keep_calling() -> None:
            while not stop.is_set():
                good_calls.append(await fake_call(port, good, headers=_header_dict()))

        jobs = [functools.partial(play, port, script) for script in scripts]
        async with Ticker() as ticker:
            caller = asyncio.create_task(keep_calling())
            await _in_batches(jobs, AT_ONCE)
            stop.set()
            await caller
        assert ticker.ticks > 20
        assert ticker.max_gap < MAX_LAG, f"event loop blocked for {ticker.max_gap:.3f} s"
        assert good_calls and all(commands == EXPECTED for commands in good_calls)
        await _nothing_left(server, baseline)
        stats = server.stats
        assert all(count > 0 for count in stats.bad_connections.values()), stats.bad_connections
        assert stats.handler_errors > 0 and stats.caller_hangups > 0
        assert stats.sessions_completed >= len(good_calls)
        assert await fake_call(port, good, headers=_header_dict()) == EXPECTED
    await eventually(lambda: _open_sockets() <= sockets_before, timeout=3.0)
    _no_bugs_logged(caplog)


async def test_a_good_session_cut_at_every_byte_offset(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    baseline: set[asyncio.Task[object]] = set(asyncio.all_tasks())
    sockets_before = _open_sockets()
    total = sum(len(chunk) for chunk in GOOD_SESSION)
    header = len(GOOD_HEADER)
    async with fuzzed_server() as server:
        port = server.port
        jobs = [functools.partial(cut_after, port, offset) for offset in range(total)]
        async with Ticker() as ticker:
            await _in_batches(jobs, AT_ONCE)
        assert ticker.max_gap < MAX_LAG, f"event loop blocked for {ticker.max_gap:.3f} s"
        await _nothing_left(server, baseline)
        stats = server.stats
        # Cut inside the header block: refused as truncated, no session. Cut after it: a
        # session whose caller is gone, however far it got; none completes.
        assert stats.bad_connections["truncated"] == header
        assert stats.sessions_started == total - header
        assert stats.sessions_completed == 0
        assert stats.caller_hangups + stats.handler_errors == total - header
        assert await fake_call(port, good, headers=_header_dict()) == EXPECTED
    await eventually(lambda: _open_sockets() <= sockets_before, timeout=3.0)
    _no_bugs_logged(caplog)


def _header_dict() -> dict[str, str]:
    return {**HEADERS, "agi_network_script": "hotline"}
