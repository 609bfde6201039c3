"""FastAgiServer over real TCP: routing, outcomes, bad connections, graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Mapping

import pytest

from ivr_engine.agi.server import FastAgiServer, Handler, Outcome, Router, SessionClosed
from ivr_engine.agi.session import AgiSession
from ivr_engine.agi.stats import BAD_CONNECTION_KINDS
from tests.unit.agi.peer import (
    HEADERS,
    AsteriskPeer,
    Ticker,
    eventually,
    fake_call,
    header_block,
    make_settings,
    succeed,
    until_closed,
)

DEAD = "511 Command Not Permitted on a dead channel or intercept routine"


@contextlib.asynccontextmanager
async def running(
    routes: Mapping[str, Handler] | Router,
    *,
    on_session_closed: SessionClosed | None = None,
    **overrides: float,
) -> AsyncIterator[FastAgiServer]:
    server = FastAgiServer(make_settings(**overrides), routes, on_session_closed=on_session_closed)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=0)


def script(name: str) -> dict[str, str]:
    return {**HEADERS, "agi_network_script": name}


async def menu(session: AgiSession) -> None:
    await session.answer()
    language = await session.get_variable("LANG")
    await session.stream_file(f"{language}/welcome")


async def test_a_normal_session() -> None:
    async with running({"ivr/main": menu}) as server:
        assert server.port > 0
        commands = await fake_call(server.port)
        assert commands == ["ANSWER", 'GET VARIABLE "LANG"', 'STREAM FILE "value/welcome" "" 0']
        stats = server.stats
        assert (stats.sessions_started, stats.sessions_completed, stats.live_sessions) == (1, 1, 0)
        assert stats.bad_connections == dict.fromkeys(BAD_CONNECTION_KINDS, 0)
        assert stats.as_dict()["sessions_completed"] == 1


async def test_unknown_route_sets_the_result_and_closes() -> None:
    async with running({"ivr/main": menu}) as server:
        commands = await fake_call(server.port, headers=script("ivr/nope"))
        assert commands == ['SET VARIABLE "IVR_RESULT" "no-route"']
        assert (server.stats.no_route, server.stats.sessions_completed) == (1, 0)


async def test_handler_error_is_logged_and_reported_to_the_dialplan(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(session: AgiSession) -> None:
        await session.answer()
        raise RuntimeError("bug in the menu")

    async with running({"ivr/main": broken}) as server:
        with caplog.at_level(logging.ERROR, logger="ivr_engine.agi.server"):
            commands = await fake_call(server.port)
        assert commands == ["ANSWER", 'SET VARIABLE "IVR_RESULT" "error"']
        assert server.stats.handler_errors == 1
        [record] = [r for r in caplog.records if r.exc_info]
        assert "bug in the menu" in str(record.exc_info[1] if record.exc_info else "")


async def test_caller_hangup_ends_the_session_cleanly() -> None:
    def dead_on_stream(command: str) -> list[str]:
        return [DEAD] if command.startswith("STREAM") else succeed(command)

    async with running({"ivr/main": menu}) as server:
        commands = await fake_call(server.port, dead_on_stream)
        assert commands == ["ANSWER", 'GET VARIABLE "LANG"', 'STREAM FILE "value/welcome" "" 0']
        assert (server.stats.caller_hangups, server.stats.handler_errors) == (1, 0)


async def test_a_timed_out_session_is_closed_without_further_commands() -> None:
    def silent_on_answer(command: str) -> list[str]:
        return [] if command == "ANSWER" else succeed(command)

    async with running({"ivr/main": menu}, command_timeout=0.2) as server:
        commands = await fake_call(server.port, silent_on_answer)
        assert commands == ["ANSWER"]  # no IVR_RESULT: the session is out of step
        assert server.stats.handler_errors == 1


async def test_callable_router_and_session_closed_callback() -> None:
    closed: list[tuple[str, Outcome]] = []

    def router(name: str) -> Handler | None:
        return menu if name.startswith("ivr/") else None

    def on_closed(session: AgiSession, outcome: Outcome) -> None:
        closed.append((session.network_script, outcome))

    async with running(router, on_session_closed=on_closed) as server:
        await fake_call(server.port, headers=script("ivr/other"))
        await fake_call(server.port, headers=script("sales"))
        assert closed == [("ivr/other", "completed"), ("sales", "no_route")]


async def test_bad_connections_never_stall_a_normal_call() -> None:
    async def slow_menu(session: AgiSession) -> None:
        for _ in range(5):
            await session.answer()
            await asyncio.sleep(0.05)

    async def truncated(port: int) -> None:
        peer = await AsteriskPeer.connect(port)
        await peer.send_raw(b"agi_network: yes\nagi_chan")
        await peer.close()

    async def refused(port: int, data: bytes) -> None:
        peer = await AsteriskPeer.connect(port)
        await peer.send_raw(data)
        assert await until_closed(peer) == []

    async def slowloris(port: int) -> None:
        peer = await AsteriskPeer.connect(port)

        async def trickle() -> None:
            with contextlib.suppress(ConnectionError):
                for n in itertools.count(1):
                    for byte in f"agi_arg_{n}: x\n".encode():
                        await peer.send_raw(bytes([byte]))
                        await asyncio.sleep(0.01)

        trickler = asyncio.create_task(trickle())
        try:
            assert await until_closed(peer) == []
        finally:
            trickler.cancel()

    oversized = b"".join(f"agi_arg_{n}: {'x' * 90}\n".encode() for n in range(1, 40))
    async with running({"ivr/main": slow_menu}, header_timeout=0.3) as server:
        port = server.port
        async with Ticker() as ticker:
            commands, *_ = await asyncio.gather(
                fake_call(port),
                truncated(port),
                refused(port, b"agi_network: yes\n"),  # stalls
                refused(port, b"GET / HTTP/1.1\r\nHost: ivr\r\n\r\n"),
                refused(port, b"agi_network: \xff\xfe\n\n"),
                refused(port, oversized),
                slowloris(port),
            )
            await eventually(lambda: server.stats.bad_connections.get("truncated") == 1)
        assert commands == ["ANSWER"] * 5
        assert server.stats.bad_connections == {
            "truncated": 1,
            "header_timeout": 2,
            "garbage": 2,
            "oversized": 1,
        }
        assert server.stats.sessions_completed == 1
        assert ticker.ticks > 10
        assert ticker.max_gap < 0.1, f"event loop blocked for {ticker.max_gap:.3f} s"


async def test_graceful_stop_lets_a_short_call_finish_and_cancels_an_overrun() -> None:
    cancelled = asyncio.Event()

    async def short(session: AgiSession) -> None:
        await asyncio.sleep(0.2)
        await session.set_variable("DONE", "yes")

    async def overrun(session: AgiSession) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    server = FastAgiServer(make_settings(), {"short": short, "overrun": overrun})
    await server.start()
    port = server.port
    calls = [
        asyncio.create_task(fake_call(port, headers=script("short"))),
        asyncio.create_task(fake_call(port, headers=script("overrun"))),
    ]
    await eventually(lambda: server.stats.live_sessions == 2)
    started = time.monotonic()
    await server.stop(grace=0.5)
    elapsed = time.monotonic() - started
    assert await calls[0] == ['SET VARIABLE "DONE" "yes"']
    assert await calls[1] == []
    assert cancelled.is_set()
    stats = server.stats
    assert (stats.sessions_completed, stats.sessions_cancelled, stats.live_sessions) == (1, 1, 0)
    assert 0.5 <= elapsed < 1.5
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_stop_returns_as_soon_as_sessions_are_done() -> None:
    async with running({"ivr/main": menu}) as server:
        await fake_call(server.port)
        started = time.monotonic()
        await server.stop(grace=5.0)
        assert time.monotonic() - started < 1.0


async def test_cancellation_reaches_the_handler_and_the_task_ends_cancelled() -> None:
    tasks: list[asyncio.Task[object]] = []
    seen = asyncio.Event()

    async def waiting(session: AgiSession) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        try:
            await session.wait_for_digit(-1, timeout=60)
        except asyncio.CancelledError:
            seen.set()
            raise

    async with running({"ivr/main": waiting}) as server:
        peer = await AsteriskPeer.connect(server.port)
        await peer.send_raw(header_block())
        assert await peer.command() == "WAIT FOR DIGIT -1"
        await server.stop(grace=0)
        assert seen.is_set()
        assert tasks[0].done() and tasks[0].cancelled()
        assert server.stats.sessions_cancelled == 1
        assert await until_closed(peer) == []


async def test_while_stopping_the_legs_of_live_calls_are_served_and_new_calls_turned_away() -> None:
    """A queued caller's session is still running when the engine stops: its agent's leg
    (a drain route) is still served during the grace; a new hotline call is sent to the
    dialplan's fallback with IVR_RESULT=error."""
    leg_done = asyncio.Event()

    async def caller(session: AgiSession) -> None:
        await leg_done.wait()  # the agent's leg of this call comes in while stopping
        await session.set_variable("TALKED", "yes")

    async def leg(session: AgiSession) -> None:
        await session.set_variable("WHISPER", "played")
        leg_done.set()

    server = FastAgiServer(
        make_settings(),
        {"hotline": caller, "agent-answer": leg},
        drain_routes=frozenset({"agent-answer"}),
    )
    await server.start()
    port = server.port
    live = asyncio.create_task(fake_call(port, headers=script("hotline")))
    await eventually(lambda: server.stats.live_sessions == 1)
    stopping = asyncio.create_task(server.stop(grace=5.0))
    await asyncio.sleep(0.05)
    assert await fake_call(port, headers=script("hotline")) == ['SET VARIABLE "IVR_RESULT" "error"']
    assert await fake_call(port, headers=script("agent-answer")) == [
        'SET VARIABLE "WHISPER" "played"'
    ]
    assert await live == ['SET VARIABLE "TALKED" "yes"']
    await stopping
    assert (server.stats.turned_away, server.stats.sessions_completed) == (1, 2)
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
