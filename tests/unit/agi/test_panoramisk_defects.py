"""panoramisk 1.4's FastAGI defects, each reproduced, next to proof that ours is free of it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from panoramisk.fast_agi import Application, Request

from ivr_engine.agi.errors import AgiTimeout, CallerHangup
from ivr_engine.agi.server import FastAgiServer
from ivr_engine.agi.session import AgiSession
from tests.unit.agi.conftest import Call
from tests.unit.agi.peer import (
    AsteriskPeer,
    eventually,
    fake_call,
    header_block,
    make_settings,
    until_closed,
)

PROJECT_ROOT = Path(__file__).resolve().parents[3]


class PanoramiskWriter:
    """Just enough of a StreamWriter for panoramisk's Request and Application."""

    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    async def drain(self) -> None:
        pass

    def get_extra_info(self, name: str) -> Any:
        return None

    def close(self) -> None:
        pass


# -- defect 1: EOF inside the header block freezes the event loop ----------------------

# Runs in a child process: the frozen loop burns a CPU and cannot be stopped from inside,
# so the test kills the process instead of leaving a spinning thread behind.
EOF_MID_HEADER = textwrap.dedent(
    """
    import asyncio, sys

    class Writer:
        def get_extra_info(self, name): return None
        def close(self): pass

    async def main(which):
        reader = asyncio.StreamReader()
        reader.feed_data(b"agi_network: yes\\nagi_network_script: ivr/ma")
        reader.feed_eof()
        if which == "panoramisk":
            from panoramisk.fast_agi import Application
            reading = Application().handler(reader, Writer())
        else:
            from ivr_engine.agi.protocol import read_headers
            reading = read_headers(reader, 5.0, 16384)
        print("reading", flush=True)
        try:
            await asyncio.wait_for(reading, 0.5)  # its timer cannot fire on a frozen loop
        except Exception as exc:
            print("returned", type(exc).__name__, getattr(exc, "kind", ""), flush=True)
        else:
            print("returned", flush=True)

    asyncio.run(main(sys.argv[1]))
    """
)


def run_eof_mid_header(which: str, wait: float) -> tuple[str, bool]:
    """Run the scenario in a child; return its output and whether it had to be killed."""
    child = subprocess.Popen(
        [sys.executable, "-c", EOF_MID_HEADER, which],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = child.communicate(timeout=wait)
        return out, False
    except subprocess.TimeoutExpired:
        child.kill()
        out, _ = child.communicate()
        return out, True


def test_defect1_panoramisk_spins_forever_on_eof_mid_header() -> None:
    out, killed = run_eof_mid_header("panoramisk", wait=3.0)
    assert "reading" in out  # it did start ...
    assert killed and "returned" not in out  # ... and even a 0.5 s wait_for never fired


def test_defect1_ours_reports_a_truncated_block_at_once() -> None:
    out, killed = run_eof_mid_header("ours", wait=10.0)
    assert not killed
    assert "returned AgiProtocolError truncated" in out


# -- defect 2: the unsolicited HANGUP line puts every later reply one line late -----------


async def test_defect2_panoramisk_replies_drift_after_hangup() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"HANGUP\n200 result=1 (first)\n200 result=1 (second)\n")
    request = Request(app=None, headers={}, reader=reader, writer=PanoramiskWriter())
    first = await request.send_command('GET VARIABLE "FIRST"')
    second = await request.send_command('GET VARIABLE "SECOND"')
    assert first["error"] == "AGIResultHangup"  # HANGUP taken as FIRST's reply
    assert second["result"] == ("1", "first")  # SECOND got FIRST's reply: out of step


async def test_defect2_ours_stays_in_step_after_hangup(call: Call) -> None:
    session, peer = call
    await peer.send("HANGUP", "200 result=1 (first)", "200 result=1 (second)")
    assert await session.get_variable("FIRST") == "first"
    with pytest.raises(CallerHangup):
        await session.get_variable("SECOND")
    assert await peer.command() == 'GET VARIABLE "FIRST"'
    await peer.assert_silent()


# -- defect 3: no read timeouts, and CancelledError is swallowed ----------------------------


async def test_defect3_panoramisk_swallows_cancellation() -> None:
    entered = asyncio.Event()

    async def route(request: Request) -> None:
        entered.set()
        await asyncio.sleep(60)

    app = Application()
    app.add_route("ivr/main", route)
    reader = asyncio.StreamReader()
    reader.feed_data(header_block())
    task = asyncio.create_task(app.handler(reader, PanoramiskWriter()))
    await entered.wait()
    task.cancel()
    await task  # returns normally: the cancellation was swallowed by `except BaseException`
    assert not task.cancelled()


async def test_defect3_panoramisk_waits_forever_for_a_reply() -> None:
    request = Request(
        app=None, headers={}, reader=asyncio.StreamReader(), writer=PanoramiskWriter()
    )
    with pytest.raises(TimeoutError):  # only our outer wait_for ends it: no timeout of its own
        await asyncio.wait_for(request.send_command("ANSWER"), 0.3)


async def test_defect3_ours_times_out_a_missing_reply(call: Call) -> None:
    session, peer = call
    with pytest.raises(AgiTimeout):
        await session.answer(timeout=0.2)
    assert await peer.command() == "ANSWER"


async def test_defect3_ours_propagates_cancellation() -> None:
    tasks: list[asyncio.Task[object]] = []

    async def waits(session: AgiSession) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        await asyncio.sleep(60)

    server = FastAgiServer(make_settings(), {"ivr/main": waits})
    await server.start()
    peer = await AsteriskPeer.connect(server.port)
    await peer.send_raw(header_block())
    await eventually(lambda: len(tasks) == 1)
    await server.stop(grace=0)
    assert tasks[0].cancelled()  # the server-owned connection task ended cancelled
    assert server.stats.sessions_cancelled == 1
    assert await until_closed(peer) == []


# -- defect 4: add_route with a plain function calls the removed asyncio.coroutine --------


def route_function(request: object) -> None:
    pass


async def test_defect4_panoramisk_add_route_plain_function_fails() -> None:
    app = Application()
    with pytest.raises(AttributeError, match="coroutine"):
        app.add_route("ivr/main", route_function)


async def test_defect4_ours_accepts_plain_functions_and_callable_objects() -> None:
    ran: list[str] = []

    def plain(session: AgiSession) -> None:
        ran.append(f"plain {session.network_script}")

    class Menu:
        async def __call__(self, session: AgiSession) -> None:
            await session.answer()
            ran.append("object")

    server = FastAgiServer(make_settings(), {"plain": plain, "object": Menu()})
    await server.start()
    try:
        assert await fake_call(server.port, headers={"agi_network_script": "plain"}) == []
        assert await fake_call(server.port, headers={"agi_network_script": "object"}) == ["ANSWER"]
    finally:
        await server.stop()
    assert ran == ["plain plain", "object"]
    assert server.stats.sessions_completed == 2
