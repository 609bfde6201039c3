"""The call runner between the FastAGI server and a flow: journal record, outcome, who hung
up, no-route, against an in-process Asterisk peer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from ivr_engine.agi.server import FastAgiServer
from ivr_engine.calls.call import ALL_KEYS, Call
from ivr_engine.calls.runner import CallRunner
from ivr_engine.journal import CallRecord, JournalWriter
from tests.unit.agi.peer import (
    HEADERS,
    AsteriskPeer,
    Responder,
    eventually,
    fake_call,
    header_block,
    make_settings,
)

CALL_HEADERS = {
    **HEADERS,
    "agi_network_script": "hotline",
    "agi_extension": "10086",
    "agi_callerid": "13800138000",
}


async def welcome_flow(call: Call) -> None:
    """Greet, take one key, say it back, hang up."""
    session = call.session
    await session.answer()
    key = await session.stream_file("hotline/welcome", escape_digits=ALL_KEYS)
    if key is not None:
        call.pressed(key)
        await session.say_digits(key)
    call.outcome("completed" if key else "no-input")
    await session.hangup()


@dataclass
class MemorySink:
    saved: list[CallRecord] = field(default_factory=list)

    async def save(self, record: CallRecord) -> None:
        self.saved.append(record)

    def last(self) -> CallRecord:
        return self.saved[-1]


@dataclass
class Engine:
    server: FastAgiServer
    sink: MemorySink
    writer: JournalWriter


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    sink = MemorySink()
    writer = JournalWriter(sink)
    writer.start()
    runner = CallRunner({"10086": welcome_flow}.get, writer, "test")
    server = FastAgiServer(make_settings(), {"hotline": runner})
    await server.start()
    yield Engine(server, sink, writer)
    await server.stop()
    await writer.close()


def press_during_welcome(key: str) -> Responder:
    def responder(command: str) -> list[str]:
        if command.startswith('STREAM FILE "hotline/welcome"'):
            return [f"200 result={ord(key)} endpos=8000"]
        if command.startswith(("STREAM FILE", "SAY DIGITS")):
            return ["200 result=0 endpos=8000"]
        return ["200 result=1" if command.startswith(("SET", "HANGUP")) else "200 result=0"]

    return responder


async def test_key_is_said_back_and_journalled(engine: Engine) -> None:
    commands = await fake_call(engine.server.port, press_during_welcome("5"), CALL_HEADERS)
    assert commands[0] == "ANSWER"
    assert "hotline/welcome" in commands[1]
    assert any(c.startswith('SAY DIGITS "5"') for c in commands)
    assert commands[-1] == "HANGUP"
    await eventually(lambda: bool(engine.sink.saved) and engine.sink.last().finished)
    record = engine.sink.last()
    assert (record.caller, record.dialled, record.keys) == ("13800138000", "10086", "5")
    assert (record.outcome, record.hangup_side) == ("completed", "engine")
    kinds = [step.kind for step in record.steps]
    assert kinds[:2] == ["answer", "stream_file"]
    assert "keys" in kinds and "say_digits" in kinds


def hang_up_during_welcome(hangup_source: str) -> Responder:
    """The welcome is cut by a hang-up; afterwards Asterisk says who hung up (the
    channel's ``CHANNEL(hangupsource)``, which it still answers on the dead channel)."""

    def responder(command: str) -> list[str]:
        if "hotline/welcome" in command:
            return ["200 result=-1 endpos=2400", "HANGUP"]
        if command.startswith("CHANNEL STATUS"):
            return ["511 Command Not Permitted on a dead channel or intercept routine"]
        if command == 'GET VARIABLE "CHANNEL(hangupsource)"':
            return [f"200 result=1 ({hangup_source})"]
        return ["200 result=1" if command.startswith("SET") else "200 result=0"]

    return responder


@pytest.mark.parametrize(
    ("source", "outcome", "side"),
    [
        pytest.param(CALL_HEADERS["agi_channel"], "caller-hangup", "caller", id="caller-bye"),
        pytest.param("", "asterisk-hangup", "asterisk", id="asterisk-restart"),
    ],
)
async def test_a_hang_up_mid_prompt_is_journalled_with_who_hung_up(
    engine: Engine, source: str, outcome: str, side: str
) -> None:
    commands = await fake_call(engine.server.port, hang_up_during_welcome(source), CALL_HEADERS)
    assert "HANGUP" not in commands  # the engine does not talk to a dead channel
    assert commands[-1] == 'GET VARIABLE "CHANNEL(hangupsource)"'  # only asks who hung up
    await eventually(lambda: bool(engine.sink.saved) and engine.sink.last().finished)
    record = engine.sink.last()
    assert (record.outcome, record.hangup_side, record.keys) == (outcome, side, "")
    assert engine.server.stats.caller_hangups == 1


async def test_asterisk_vanishing_mid_prompt_is_journalled_as_a_lost_connection(
    engine: Engine,
) -> None:
    """Asterisk dies during the welcome: the connection closes with no HANGUP line and
    nobody left to ask who hung up."""
    peer = await AsteriskPeer.connect(engine.server.port)
    await peer.send_raw(header_block(CALL_HEADERS))
    assert await peer.command() == "ANSWER"
    await peer.send("200 result=0")
    assert (await peer.command() or "").startswith('STREAM FILE "hotline/welcome"')
    await peer.close()
    await eventually(lambda: bool(engine.sink.saved) and engine.sink.last().finished)
    record = engine.sink.last()
    assert (record.outcome, record.hangup_side) == ("connection-lost", "unknown")
    assert engine.server.stats.caller_hangups == 1


async def test_a_flow_ending_with_the_caller_on_the_line_lets_the_dialplan_go_on(
    engine: Engine,
) -> None:
    """The dialplan set IVR_RESULT=running before the call came: a flow that ends without
    hanging up (a transfer) clears it, unjournalled, so the dialplan does not take the
    fallback meant for an engine that died mid-call."""

    async def transfer(call: Call) -> None:
        await call.session.set_variable("IVR_TRANSFER", "8001")
        call.outcome("transferred:8001")

    sink = MemorySink()
    writer = JournalWriter(sink)
    writer.start()
    server = FastAgiServer(
        make_settings(), {"hotline": CallRunner({"10086": transfer}.get, writer, "test")}
    )
    await server.start()
    try:
        commands = await fake_call(server.port, press_during_welcome("1"), CALL_HEADERS)
    finally:
        await server.stop()
        await writer.close()
    assert commands == ['SET VARIABLE "IVR_TRANSFER" "8001"', 'SET VARIABLE "IVR_RESULT" ""']
    record = sink.last()
    assert (record.outcome, record.hangup_side) == ("transferred:8001", "engine")
    assert [step.kind for step in record.steps] == ["set_variable", "outcome"]


async def test_unknown_number_sets_no_route_for_the_dialplan(engine: Engine) -> None:
    headers = {**CALL_HEADERS, "agi_extension": "12345"}
    commands = await fake_call(engine.server.port, press_during_welcome("1"), headers)
    assert commands == ['SET VARIABLE "IVR_RESULT" "no-route"']
    await eventually(lambda: bool(engine.sink.saved) and engine.sink.last().finished)
    assert engine.sink.last().outcome == "no-route"
