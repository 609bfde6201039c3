"""FastAGI metrics on scripted sessions: command latency by verb, calls in progress,
sessions by outcome, protocol errors and command timeouts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

import pytest

from ivr_engine.agi.server import FastAgiServer, Handler
from ivr_engine.agi.session import AgiSession
from ivr_engine.metrics.engine import EngineMetrics
from tests.unit.agi.peer import (
    HEADERS,
    AsteriskPeer,
    Responder,
    eventually,
    fake_call,
    header_block,
    make_settings,
    succeed,
    until_closed,
)
from tests.unit.metrics.support import errors, value

HOTLINE = {**HEADERS, "agi_network_script": "hotline"}


class Serve(Protocol):
    def __call__(
        self, handler: Handler, **settings: float
    ) -> contextlib.AbstractAsyncContextManager[FastAgiServer]: ...


async def greet(session: AgiSession) -> None:
    await session.answer()
    await session.stream_file("hotline/welcome")
    await session.stream_file("hotline/menu")
    await session.get_variable("CALLERID(num)")
    await session.set_variable("IVR_RESULT", "ok")


@pytest.fixture
def metrics() -> EngineMetrics:
    return EngineMetrics()  # a fresh registry for each test


@pytest.fixture
def serve(metrics: EngineMetrics) -> Serve:
    """A FastAGI server on the hotline route, reporting to ``metrics``."""

    @contextlib.asynccontextmanager
    async def run(handler: Handler, **settings: float) -> AsyncIterator[FastAgiServer]:
        server = FastAgiServer(make_settings(**settings), {"hotline": handler}, metrics=metrics)
        await server.start()
        metrics.watch(agi=server.stats)
        try:
            yield server
        finally:
            await server.stop(0.5)

    return run


def count(metrics: EngineMetrics, verb: str) -> float | None:
    return value(metrics, "ivr_agi_command_seconds_count", verb=verb)


async def test_every_command_is_timed_under_its_verb(metrics: EngineMetrics, serve: Serve) -> None:
    async with serve(greet) as server:
        await fake_call(server.port, succeed, HOTLINE)
        await eventually(lambda: server.stats.sessions_completed == 1)
    assert count(metrics, "answer") == 1
    assert count(metrics, "stream_file") == 2
    assert count(metrics, "get_variable") == 1
    assert count(metrics, "set_variable") == 1
    assert count(metrics, "hangup") is None  # a verb never sent has no series
    # Each round trip is a real, positive duration, and fits in the top bucket.
    total = value(metrics, "ivr_agi_command_seconds_sum", verb="stream_file")
    assert total is not None and total > 0
    assert value(metrics, "ivr_agi_command_seconds_bucket", verb="stream_file", le="+Inf") == 2
    assert value(metrics, "ivr_agi_sessions_total", outcome="completed") == 1
    assert errors(metrics, "agi_timeout") == errors(metrics, "agi_protocol") == 0


async def test_a_slow_reply_lands_in_a_higher_bucket(metrics: EngineMetrics, serve: Serve) -> None:
    async def handler(session: AgiSession) -> None:
        await session.answer()
        await session.stream_file("hotline/welcome")

    async with serve(handler) as server:
        peer = await AsteriskPeer.connect(server.port)
        await peer.send_raw(header_block(HOTLINE))
        assert await peer.command() == "ANSWER"
        await peer.send("200 result=0")
        assert (await peer.command() or "").startswith("STREAM FILE")
        await asyncio.sleep(0.3)  # Asterisk plays the prompt
        await peer.send("200 result=0 endpos=8000")
        await until_closed(peer)
        await eventually(lambda: server.stats.sessions_completed == 1)
    fast = value(metrics, "ivr_agi_command_seconds_bucket", verb="stream_file", le="0.25")
    assert fast == 0  # it took more than 0.3 s
    assert value(metrics, "ivr_agi_command_seconds_bucket", verb="stream_file", le="0.5") == 1
    assert value(metrics, "ivr_agi_command_seconds_bucket", verb="answer", le="0.25") == 1


async def test_calls_in_progress_count_hotline_sessions_only_while_they_run(
    metrics: EngineMetrics,
) -> None:
    release = asyncio.Event()

    async def hold(session: AgiSession) -> None:
        await session.answer()
        await release.wait()

    routes = {"hotline": hold, "agent-feature": hold}
    server = FastAgiServer(make_settings(), routes, metrics=metrics)
    await server.start()
    metrics.watch(agi=server.stats)
    try:
        assert value(metrics, "ivr_calls_active") == 0
        calls = [
            asyncio.create_task(fake_call(server.port, succeed, HOTLINE)),
            asyncio.create_task(fake_call(server.port, succeed, HOTLINE)),
            asyncio.create_task(
                fake_call(server.port, succeed, {**HEADERS, "agi_network_script": "agent-feature"})
            ),
        ]
        await eventually(lambda: server.stats.live_sessions == 3)
        assert value(metrics, "ivr_calls_active") == 2  # the agent's feature code is no call
        release.set()
        await asyncio.gather(*calls)
        await eventually(lambda: server.stats.live_sessions == 0)
        assert value(metrics, "ivr_calls_active") == 0
    finally:
        await server.stop(0.5)


async def test_a_command_timeout_is_counted_and_timed(metrics: EngineMetrics, serve: Serve) -> None:
    def silent_on_get(command: str) -> list[str]:
        return [] if command.startswith("GET VARIABLE") else succeed(command)

    async with serve(greet, command_timeout=0.2) as server:
        await fake_call(server.port, silent_on_get, HOTLINE)
        await eventually(lambda: server.stats.handler_errors == 1)
    assert errors(metrics, "agi_timeout") == 1
    assert errors(metrics, "agi_protocol") == 0
    assert count(metrics, "get_variable") == 1
    total = value(metrics, "ivr_agi_command_seconds_sum", verb="get_variable")
    assert total is not None and total >= 0.1  # the wait is recorded
    assert value(metrics, "ivr_agi_sessions_total", outcome="handler_error") == 1


@pytest.mark.parametrize(
    ("garbled", "why"),
    [
        (lambda c: ["hello there"] if c.startswith("GET VARIABLE") else succeed(c), "no reply"),
        (lambda c: ["200 result=9"] if c.startswith("STREAM") else succeed(c), "not a key"),
    ],
)
async def test_a_reply_that_is_not_fastagi_is_a_protocol_error(
    metrics: EngineMetrics,
    serve: Serve,
    garbled: Responder,
    why: str,
) -> None:
    async with serve(greet) as server:
        await fake_call(server.port, garbled, HOTLINE)
        await eventually(lambda: server.stats.handler_errors == 1)
    assert errors(metrics, "agi_protocol") == 1, why
    assert errors(metrics, "agi_timeout") == 0


async def test_refused_connections_are_protocol_errors(
    metrics: EngineMetrics, serve: Serve
) -> None:
    async with serve(greet, header_timeout=0.2) as server:
        garbage = await AsteriskPeer.connect(server.port)
        await garbage.send_raw(b"GET / HTTP/1.1\n\n")
        await until_closed(garbage)
        stalled = await AsteriskPeer.connect(server.port)  # sends nothing at all
        await until_closed(stalled)
        await eventually(lambda: sum(server.stats.bad_connections.values()) == 2)
    assert errors(metrics, "agi_protocol") == 2
    assert value(metrics, "ivr_agi_command_seconds_count", verb="answer") is None
