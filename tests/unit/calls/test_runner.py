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
from tests.unit.agi.peer import HEADERS, Responder, eventually, fake_call, make_settings

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


async def test_caller_hanging_up_mid_prompt_is_journalled_as_such(engine: Engine) -> None:
    def hang_up_during_welcome(command: str) -> list[str]:
        if "hotline/welcome" in command:
            return ["200 result=-1 endpos=2400", "HANGUP"]
        if command.startswith("CHANNEL STATUS"):
            return ["511 Command Not Permitted on a dead channel or intercept routine"]
        return ["200 result=1" if command.startswith("SET") else "200 result=0"]

    commands = await fake_call(engine.server.port, hang_up_during_welcome, CALL_HEADERS)
    assert "HANGUP" not in commands  # the engine does not talk to a dead channel
    await eventually(lambda: bool(engine.sink.saved) and engine.sink.last().finished)
    record = engine.sink.last()
    assert (record.outcome, record.hangup_side, record.keys) == ("caller-hangup", "caller", "")
    assert engine.server.stats.caller_hangups == 1


async def test_unknown_number_sets_no_route_for_the_dialplan(engine: Engine) -> None:
    headers = {**CALL_HEADERS, "agi_extension": "12345"}
    commands = await fake_call(engine.server.port, press_during_welcome("1"), headers)
    assert commands == ['SET VARIABLE "IVR_RESULT" "no-route"']
    await eventually(lambda: bool(engine.sink.saved) and engine.sink.last().finished)
    assert engine.sink.last().outcome == "no-route"
