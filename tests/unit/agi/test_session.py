"""AgiSession: wire format, reply interpretation, hang-up rules, timeouts, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from ivr_engine.agi.errors import (
    AgiCommandError,
    AgiError,
    AgiProtocolError,
    AgiTimeout,
    CallerHangup,
)
from ivr_engine.agi.metrics import CommandTrace
from ivr_engine.agi.session import AgiSession
from tests.unit.agi.conftest import Call
from tests.unit.agi.peer import HEADERS

DEAD = "511 Command Not Permitted on a dead channel or intercept routine"


async def test_call_data_from_headers(call: Call) -> None:
    _, peer = call  # only its streams are borrowed
    headers = {**HEADERS, "agi_callerid": "unknown", "agi_dnid": "unknown"}
    session = AgiSession(headers, peer.reader, peer.writer, command_timeout=1.0)
    assert session.network_script == "ivr/main"
    assert session.caller == ""
    assert session.dnid == ""
    assert session.dialled == "100"
    assert session.channel == "PJSIP/alice-00000001"
    assert session.unique_id == "1700000000.1"
    assert session.arguments == ["fr", "two words"]
    assert session.headers["agi_language"] == "en"
    assert not session.hung_up and session.usable


async def test_answer(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=0")
    await session.answer()
    assert await peer.command() == "ANSWER"


@pytest.mark.parametrize(
    ("result", "digit"),
    [("53", "5"), ("48", "0"), ("42", "*"), ("35", "#"), ("65", "A"), ("68", "D"), ("0", None)],
)
async def test_stream_file_maps_the_dtmf_code(call: Call, result: str, digit: str | None) -> None:
    session, peer = call
    await peer.send(f"200 result={result} endpos=8000")
    assert await session.stream_file("ivr/welcome", "0123456789*#", offset=16) == digit
    assert await peer.command() == 'STREAM FILE "ivr/welcome" "0123456789*#" 16'


async def test_a_result_that_is_not_a_dtmf_code_is_refused(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=120 endpos=0")
    with pytest.raises(AgiProtocolError):
        await session.wait_for_digit(1000)
    assert await peer.command() == "WAIT FOR DIGIT 1000"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("200 result=1234", ("1234", False)),
        ("200 result=12 (timeout)", ("12", True)),
        ("200 result= (timeout)", ("", True)),
        ("200 result=*#", ("*#", False)),
    ],
)
async def test_get_data(call: Call, reply: str, expected: tuple[str, bool]) -> None:
    session, peer = call
    await peer.send(reply)
    assert await session.get_data("ivr/enter-account", 5000, 4) == expected
    assert await peer.command() == 'GET DATA "ivr/enter-account" 5000 4'


async def test_say_commands_and_wait_for_digit(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=0", "200 result=35", "200 result=0", "200 result=49")
    assert await session.say_digits("1234") is None
    assert await session.say_number(42, "#", gender="f") == "#"
    assert await session.say_number(7) is None
    assert await session.wait_for_digit(-1) == "1"
    assert [await peer.command() for _ in range(4)] == [
        'SAY DIGITS "1234" ""',
        'SAY NUMBER 42 "#" "f"',
        'SAY NUMBER 7 ""',
        "WAIT FOR DIGIT -1",
    ]


async def test_variables(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=0", "200 result=1 (hello (big) world)", "200 result=1 ()")
    assert await session.get_variable("MISSING") is None
    assert await session.get_variable("GREETING") == "hello (big) world"
    assert await session.get_full_variable("${CALLERID(num)}") == ""
    assert [await peer.command() for _ in range(3)] == [
        'GET VARIABLE "MISSING"',
        'GET VARIABLE "GREETING"',
        'GET FULL VARIABLE "${CALLERID(num)}"',
    ]


async def test_set_variable_quotes_the_value(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=1")
    await session.set_variable("MESSAGE", 'say "hi" \\ now')
    assert await peer.command() == 'SET VARIABLE "MESSAGE" "say \\"hi\\" \\\\ now"'


async def test_set_variable_refuses_command_injection(call: Call) -> None:
    session, peer = call
    with pytest.raises(ValueError):
        await session.set_variable("X", "1\nHANGUP")
    await peer.assert_silent()


async def test_exec_music_verbose_hangup(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=0", "200 result=0", "200 result=1", "200 result=1")
    assert await session.exec("Playback", "hello-world", "noanswer") == 0
    await session.set_music(True, "default")
    await session.verbose("menu entered", 3)
    await session.hangup()
    assert [await peer.command() for _ in range(4)] == [
        'EXEC "Playback" "hello-world,noanswer"',
        'SET MUSIC on "default"',
        'VERBOSE "menu entered" 3',
        "HANGUP",
    ]


async def test_exec_of_a_missing_application(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=-2")
    with pytest.raises(AgiCommandError, match="NoSuchApp"):
        await session.exec("NoSuchApp")
    assert await peer.command() == 'EXEC "NoSuchApp" ""'
    assert session.usable


# -- hang-up rules -----------------------------------------------------------------------


async def test_minus_one_after_a_hangup_line_is_a_hangup_without_probe(call: Call) -> None:
    session, peer = call
    await peer.send("HANGUP", "200 result=-1 endpos=0")
    with pytest.raises(CallerHangup):
        await session.stream_file("ivr/welcome")
    assert await peer.command() == 'STREAM FILE "ivr/welcome" "" 0'
    await peer.assert_silent()  # no CHANNEL STATUS probe was needed
    assert session.hung_up


@pytest.mark.parametrize(
    "probe_reply",
    [[DEAD], ["HANGUP", DEAD], ["HANGUP", "200 result=0"]],
    ids=["511", "hangup-line-then-511", "hangup-line"],
)
async def test_minus_one_on_a_dead_channel_is_a_hangup(call: Call, probe_reply: list[str]) -> None:
    session, peer = call
    await peer.send("200 result=-1 endpos=0", *probe_reply)
    with pytest.raises(CallerHangup):
        await session.get_data("ivr/menu", 3000, 1)
    assert await peer.command() == 'GET DATA "ivr/menu" 3000 1'
    assert await peer.command() == "CHANNEL STATUS"
    assert session.hung_up


async def test_minus_one_on_a_live_channel_is_a_command_error(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=-1 endpos=0", "200 result=6", "200 result=0")
    with pytest.raises(AgiCommandError, match="no-such-file"):
        await session.stream_file("no-such-file")
    assert await peer.command() == 'STREAM FILE "no-such-file" "" 0'
    assert await peer.command() == "CHANNEL STATUS"
    assert not session.hung_up
    await session.answer()  # still in step and usable
    assert await peer.command() == "ANSWER"


async def test_a_hangup_result_needs_no_probe(call: Call) -> None:
    session, peer = call
    await peer.send("200 result=-1 (hangup)")
    with pytest.raises(CallerHangup):
        await session.exec("Record", "msg.wav")
    await peer.command()
    await peer.assert_silent()


async def test_511_to_any_command_is_a_hangup_and_ends_the_session(call: Call) -> None:
    session, peer = call
    await peer.send(DEAD)
    with pytest.raises(CallerHangup):
        await session.set_music(True)
    assert await peer.command() == "SET MUSIC on"
    with pytest.raises(CallerHangup):
        await session.answer()
    await peer.assert_silent()


async def test_hangup_line_before_a_reply_keeps_replies_in_step(call: Call) -> None:
    session, peer = call
    await peer.send("HANGUP", "200 result=1 (first)", "200 result=1 (second)")
    assert await session.get_variable("FIRST") == "first"  # its own reply, not HANGUP
    assert session.hung_up
    with pytest.raises(CallerHangup):
        await session.get_variable("SECOND")
    assert await peer.command() == 'GET VARIABLE "FIRST"'
    await peer.assert_silent()


async def test_eof_is_a_hangup(call: Call) -> None:
    session, peer = call
    await peer.close()
    with pytest.raises(CallerHangup):
        await session.answer()
    assert session.hung_up


# -- errors, timeouts, cancellation ------------------------------------------------------


async def test_510_and_520_are_command_errors_and_keep_step(call: Call) -> None:
    session, peer = call
    await peer.send(
        "510 Invalid or unknown command",
        "520-Invalid command syntax.  Proper usage follows:",
        " Usage: SAY NUMBER <number> <escape_digits> [gender]",
        "520 End of proper usage.",
        "100 result=0 Trying...",
        "200 result=1 (ok)",
    )
    with pytest.raises(AgiCommandError) as invalid:
        await session.command("FROB")
    assert invalid.value.code == 510
    with pytest.raises(AgiCommandError) as usage:
        await session.command("SAY NUMBER")
    assert usage.value.code == 520
    assert "Usage: SAY NUMBER" in usage.value.message
    assert await session.get_variable("X") == "ok"


async def test_timeout_breaks_the_session(call: Call) -> None:
    session, peer = call
    with pytest.raises(AgiTimeout):
        await session.answer(timeout=0.1)
    assert await peer.command() == "ANSWER"
    assert session.broken and not session.usable
    await peer.send("200 result=0")  # the late reply must never be read as another's
    with pytest.raises(AgiError) as caught:
        await session.get_variable("X")
    assert type(caught.value) is AgiError
    await peer.assert_silent()


async def test_cancelling_a_command_propagates_and_breaks_the_session(call: Call) -> None:
    session, peer = call
    task = asyncio.create_task(session.get_data("ivr/menu", 5000, 1))
    assert await peer.command() == 'GET DATA "ivr/menu" 5000 1'
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert session.broken
    with pytest.raises(AgiError):
        await session.answer()
    await peer.assert_silent()


async def test_commands_are_serialised(call: Call) -> None:
    session, peer = call
    first = asyncio.create_task(session.get_variable("A"))
    second = asyncio.create_task(session.get_variable("B"))
    assert await peer.command() == 'GET VARIABLE "A"'
    await peer.assert_silent()  # B waits for A's reply
    await peer.send("200 result=1 (a)")
    assert await peer.command() == 'GET VARIABLE "B"'
    await peer.send("200 result=1 (b)")
    assert (await first, await second) == ("a", "b")


async def test_observer_gets_one_trace_per_command(call: Call) -> None:
    session, peer = call
    traces: list[CommandTrace] = []
    session.observer = traces.append
    await peer.send("200 result=1 (v)", "510 Invalid or unknown command")
    await session.get_variable("X")
    with pytest.raises(AgiCommandError):
        await session.command("FROB")
    assert [t.command for t in traces] == ['GET VARIABLE "X"', "FROB"]
    assert traces[0].reply is not None and traces[0].reply.data == "v"
    assert traces[0].error is None and traces[0].duration >= 0
    assert traces[1].error is not None and traces[1].error.startswith("AgiCommandError")


async def test_a_failing_observer_does_not_break_the_call(call: Call) -> None:
    session, peer = call

    def explode(trace: CommandTrace) -> None:
        raise RuntimeError("journal down")

    session.observer = explode
    await peer.send("200 result=0")
    await session.answer()
    assert session.usable
