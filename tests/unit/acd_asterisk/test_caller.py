"""serve(): a caller waiting in its FastAGI session, against a real ACD on SQLite.

The scripted Asterisk moves the ACD's clock on by each WAIT FOR DIGIT tick and runs one
matching pass there, so offers, announcements and max-wait actions come at known ticks.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from acd.agents import AgentState
from acd.service.acd import Acd
from acd.store.call_rows import CallRecord
from ivr_engine.acd_asterisk.caller import QueueDesk, serve
from ivr_engine.agi.channel import AgiChannel
from ivr_engine.agi.errors import CallerHangup
from ivr_engine.interpreter.waiting import QueueOutcome
from ivr_engine.speech.numbers import number_prompts
from tests.unit.acd_asterisk.scripted import (
    DialHook,
    FakeClock,
    Hook,
    ScriptedAsterisk,
    agent_status,
    agi_headers,
    agi_session,
    call_row,
    log_in,
    make_config,
    queue_events,
    queue_log,
    running_acd,
)

HOST, PORT = "10.0.0.5", 4573
CALLER = "13800138000"
HEADERS = agi_headers(
    "PJSIP/callers-00000001",
    agi_network_script="hotline",
    agi_callerid=CALLER,
    agi_uniqueid="1790000000.11",
)
TICK = "WAIT FOR DIGIT 250"


def dial_of(agent: str, ring: int = 12, call_id: str = "call-1") -> str:
    return f'EXEC "Dial" "PJSIP/{agent},{ring},gmU(acd-agent^{call_id}^{HOST}^{PORT})"'


def stream(prompt: str, escape: str = "") -> str:
    return f'STREAM FILE "hotline/{prompt}" "{escape}" 0'


def passes(acd: Acd) -> Hook:
    """At every tick: one matching pass (what the dispatcher would do meanwhile)."""

    async def hook() -> None:
        await acd.dispatcher.run_pass()

    return hook


def answering(
    acd: Acd, clock: FakeClock, talk_s: float = 42.0, seen: list[CallRecord] | None = None
) -> DialHook:
    """The agent answers (the agent-answer route records it) and talks ``talk_s``."""

    async def dial(args: str) -> str:
        agent = args.split(",")[0].removeprefix("PJSIP/")
        if seen is not None:
            row = await call_row(acd, "call-1")
            assert row is not None
            seen.append(row)
        assert await acd.answered("call-1", agent) is not None
        clock.advance(talk_s)
        return "ANSWER"

    return dial


async def wait_in_queue(
    acd: Acd, peer: ScriptedAsterisk, queue: str = "sales", notes: list[str] | None = None
) -> QueueOutcome:
    noted = [] if notes is None else notes
    async with agi_session(peer, HEADERS) as session:
        desk = QueueDesk(acd, HOST, PORT)
        return await serve(desk, AgiChannel(session, "en"), "call-1", queue, noted.append)


def ticks_before(peer: ScriptedAsterisk, prefix: str) -> int:
    """How many hold ticks came before the first command starting with ``prefix``."""
    before = peer.commands[: len(peer.commands) - len(peer.after(prefix))]
    return before.count(TICK)


# -- an agent free at once ----------------------------------------------------------------


async def test_a_free_agent_is_dialled_at_once_without_an_announcement(
    tmp_path: Path, clock: FakeClock
) -> None:
    config = make_config(sales={"announce_every_s": 30})
    async with running_acd(tmp_path, config, clock) as acd:
        await log_in(acd, clock, "8001")
        seen: list[CallRecord] = []
        peer = ScriptedAsterisk(
            clock=clock, on_wait=passes(acd), on_dial=answering(acd, clock, 42.0, seen)
        )
        notes: list[str] = []
        outcome = await wait_in_queue(acd, peer, notes=notes)

        assert outcome == QueueOutcome("talked", "8001")
        assert peer.commands == [
            "SET MUSIC on",
            TICK,
            "SET MUSIC off",
            dial_of("8001", ring=12),
            'GET VARIABLE "DIALSTATUS"',
        ]
        assert peer.heard == []
        ringing = seen[0]
        assert (ringing.state, ringing.reserved_agent, ringing.kind) == (
            "offered",
            "8001",
            "caller",
        )
        assert (ringing.caller, ringing.channel, ringing.unique_id) == (
            CALLER,
            "PJSIP/callers-00000001",
            "1790000000.11",
        )

        status = await agent_status(acd, "8001")
        assert status.state is AgentState.WRAP_UP
        assert status.wrap_up_until == clock.now + 30
        assert status.calls_today == 1
        assert await call_row(acd, "call-1") is None
        assert "call-1" not in acd.tickets
        log = await queue_log(acd, "call-1")
        assert [(r["event"], r["agent_id"]) for r in log] == [
            ("enter", None),
            ("offer", "8001"),
            ("answer", "8001"),
            ("complete", "8001"),
        ]
        assert log[2]["wait_s"] == pytest.approx(0.25)
        assert log[3]["talk_s"] == pytest.approx(42.0)
        assert notes == ["enter sales priority=0", "offer 8001", "talked 8001"]


async def test_the_ring_timeout_is_rounded_to_whole_seconds(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_acd(tmp_path, make_config(sales={"ring_timeout_s": 7.6}), clock) as acd:
        await log_in(acd, clock, "8002")
        peer = ScriptedAsterisk(clock=clock, on_wait=passes(acd), on_dial=answering(acd, clock))
        await wait_in_queue(acd, peer)
        assert dial_of("8002", ring=8) in peer.commands


async def test_the_running_dispatcher_offers_the_call(acd: Acd, clock: FakeClock) -> None:
    await log_in(acd, clock, "8001")
    acd.start()

    async def moment() -> None:
        await asyncio.sleep(0.005)  # Asterisk's 250 ms, shortened; the clock stands still

    peer = ScriptedAsterisk(on_wait=moment, on_dial=answering(acd, clock))
    outcome = await asyncio.wait_for(wait_in_queue(acd, peer), 1.5)
    assert outcome == QueueOutcome("talked", "8001")
    assert peer.dials == ["PJSIP/8001,12,gmU(acd-agent^call-1^10.0.0.5^4573)"]
    assert (await agent_status(acd, "8001")).state is AgentState.WRAP_UP


async def test_recording_starts_mixmonitor_right_before_the_dial(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_acd(tmp_path, make_config(sales={"recording": True}), clock) as acd:
        await log_in(acd, clock, "8001")
        peer = ScriptedAsterisk(clock=clock, on_wait=passes(acd), on_dial=answering(acd, clock))
        notes: list[str] = []
        await wait_in_queue(acd, peer, notes=notes)
        assert peer.after("SET MUSIC off") == [
            "SET MUSIC off",
            'EXEC "MixMonitor" "acd/call-1.wav,b"',
            dial_of("8001"),
            'GET VARIABLE "DIALSTATUS"',
        ]
        assert "recording acd/call-1.wav" in notes


# -- the agent does not answer ------------------------------------------------------------


async def test_no_answer_puts_the_call_back_and_the_next_agent_is_dialled(
    acd: Acd, clock: FakeClock
) -> None:
    await log_in(acd, clock, "8001", "8002")  # 8001 idle longest: offered first
    declined: list[frozenset[str]] = []
    answer = answering(acd, clock)

    async def dial(args: str) -> str:
        if args.startswith("PJSIP/8001,"):
            return "NOANSWER"
        row = await call_row(acd, "call-1")
        assert row is not None
        declined.append(row.call.declined_by)
        return await answer(args)

    peer = ScriptedAsterisk(clock=clock, on_wait=passes(acd), on_dial=dial)
    notes: list[str] = []
    outcome = await wait_in_queue(acd, peer, notes=notes)

    assert outcome == QueueOutcome("talked", "8002")
    assert [d.split(",")[0] for d in peer.dials] == ["PJSIP/8001", "PJSIP/8002"]
    assert peer.after(dial_of("8001")) == [
        dial_of("8001"),
        'GET VARIABLE "DIALSTATUS"',
        "SET MUSIC on",  # back to waiting, with music
        TICK,
        "SET MUSIC off",
        dial_of("8002"),
        'GET VARIABLE "DIALSTATUS"',
    ]
    assert declined == [frozenset({"8001"})]
    first = await agent_status(acd, "8001")
    assert (first.state, first.missed_in_row) == (AgentState.AVAILABLE, 1)
    assert (await agent_status(acd, "8002")).state is AgentState.WRAP_UP
    assert await queue_events(acd, "call-1") == [
        ("enter", "sales", None),
        ("offer", "sales", "8001"),
        ("ring-no-answer", "sales", "8001"),
        ("offer", "sales", "8002"),
        ("answer", "sales", "8002"),
        ("complete", "sales", "8002"),
    ]
    assert (await queue_log(acd, "call-1"))[2]["detail"] == "NOANSWER"
    assert "ring 8001 -> NOANSWER" in notes


# -- the caller hangs up ------------------------------------------------------------------


async def test_hanging_up_while_waiting_abandons_the_call(acd: Acd, clock: FakeClock) -> None:
    peer = ScriptedAsterisk(clock=clock)

    async def hook() -> None:
        await acd.dispatcher.run_pass()
        if peer.waits == 3:
            peer.hang_up = True

    peer.on_wait = hook
    with pytest.raises(CallerHangup):
        await wait_in_queue(acd, peer)

    assert await call_row(acd, "call-1") is None
    assert acd.tickets == {}
    log = await queue_log(acd, "call-1")
    assert [r["event"] for r in log] == ["enter", "abandon"]
    assert log[1]["detail"] == "caller hung up"
    assert log[1]["wait_s"] == pytest.approx(0.75)


async def test_hanging_up_while_the_agent_rings_frees_the_agent(acd: Acd, clock: FakeClock) -> None:
    await log_in(acd, clock, "8001")
    peer = ScriptedAsterisk(clock=clock, on_wait=passes(acd))

    async def dial(args: str) -> str:
        peer.hang_up = True
        return "CANCEL"

    peer.on_dial = dial
    with pytest.raises(CallerHangup):
        await wait_in_queue(acd, peer)

    status = await agent_status(acd, "8001")
    assert (status.state, status.missed_in_row) == (AgentState.AVAILABLE, 0)
    assert await call_row(acd, "call-1") is None
    events = await queue_events(acd, "call-1")
    assert [e[0] for e in events] == ["enter", "offer", "abandon"]


async def test_hanging_up_during_the_talk_completes_the_call(acd: Acd, clock: FakeClock) -> None:
    await log_in(acd, clock, "8001")
    peer = ScriptedAsterisk(clock=clock, on_wait=passes(acd))
    answer = answering(acd, clock, talk_s=20.0)

    async def dial(args: str) -> str:
        status = await answer(args)
        peer.hang_up = True
        return status

    peer.on_dial = dial
    with pytest.raises(CallerHangup):
        await wait_in_queue(acd, peer)

    assert (await agent_status(acd, "8001")).state is AgentState.WRAP_UP
    log = await queue_log(acd, "call-1")
    assert [r["event"] for r in log] == ["enter", "offer", "answer", "complete"]
    assert log[-1]["talk_s"] == pytest.approx(20.0)


# -- announcements ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "first_ticks"),
    [(10.0, 12), (2.0, 8)],  # the first after FIRST_ANNOUNCEMENT_S (3 s), or sooner
)
async def test_position_and_estimated_wait_are_announced(
    tmp_path: Path, clock: FakeClock, every: float, first_ticks: int
) -> None:
    async with running_acd(tmp_path, make_config(sales={"announce_every_s": every}), clock) as acd:
        await acd.enqueue("call-0", "sales")  # one caller ahead
        clock.advance(1.0)
        peer = ScriptedAsterisk(clock=clock)

        async def hook() -> None:  # no agent: no matching pass needed
            if peer.heard.count("acd-minutes") == 2:
                peer.hang_up = True

        peer.on_wait = hook
        notes: list[str] = []
        with pytest.raises(CallerHangup):
            await wait_in_queue(acd, peer, notes=notes)

    # place 2; nobody staffed: 2 x (180 s default talk + 30 s wrap-up) = 7 minutes
    one = [
        "acd-position-before",
        *number_prompts(2, "en"),
        "acd-position-after",
        "acd-wait-before",
        *number_prompts(7, "en"),
        "acd-minutes",
    ]
    assert peer.heard == one + one
    assert ticks_before(peer, 'STREAM FILE "hotline/acd-position-before"') == first_ticks
    second = peer.after(stream("acd-minutes"))[1:]
    assert second[0] == "SET MUSIC on"
    assert ticks_before_in(second, 'STREAM FILE "hotline/acd-position-before"') == every / 0.25
    assert notes.count("announce position=2 wait=7min") == 2


def ticks_before_in(commands: list[str], prefix: str) -> int:
    for n, command in enumerate(commands):
        if command.startswith(prefix):
            return commands[:n].count(TICK)
    raise AssertionError(f"no {prefix!r}")


# -- max wait: callback -------------------------------------------------------------------

CALLBACK_AFTER_5S = {"max_wait": {"after": 5, "action": "callback"}}


async def test_max_wait_callback_key_1_calls_back_the_caller(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_acd(tmp_path, make_config(sales=CALLBACK_AFTER_5S), clock) as acd:
        peer = ScriptedAsterisk(clock=clock, keys=["1"], keys_after="acd-callback-offer")
        notes: list[str] = []
        outcome = await wait_in_queue(acd, peer, notes=notes)

        assert outcome == QueueOutcome("callback")
        assert ticks_before(peer, "SET MUSIC off") == 20  # 5 s of 250 ms ticks
        assert peer.after("SET MUSIC off") == [
            "SET MUSIC off",
            stream("acd-callback-offer", "12#"),
            stream("acd-callback-confirmed"),
        ]
        row = await call_row(acd, "call-1")
        assert row is not None
        assert (row.kind, row.callback_number, row.state, row.reserved_agent) == (
            "callback",
            CALLER,
            "waiting",
            None,
        )
        assert row.instance == "test"
        log = await queue_log(acd, "call-1")
        assert [(r["event"], r["detail"]) for r in log] == [
            ("enter", "priority=0"),
            ("callback-offered", f"to {CALLER}"),
        ]
        assert acd.tickets == {}
        assert f"callback to {CALLER}" in notes


async def test_max_wait_callback_key_2_takes_the_number_keyed_in(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_acd(tmp_path, make_config(sales=CALLBACK_AFTER_5S), clock) as acd:
        peer = ScriptedAsterisk(
            clock=clock, keys=["2", "5550001#"], keys_after="acd-callback-offer"
        )
        outcome = await wait_in_queue(acd, peer)

        assert outcome == QueueOutcome("callback")
        assert peer.after("SET MUSIC off") == [
            "SET MUSIC off",
            stream("acd-callback-offer", "12#"),
            stream("acd-callback-enter-number"),
            *["WAIT FOR DIGIT 6000"] * 8,  # 5550001 and #
            stream("acd-callback-confirmed"),
        ]
        row = await call_row(acd, "call-1")
        assert row is not None
        assert (row.kind, row.callback_number) == ("callback", "5550001")


async def test_a_number_too_short_is_refused_and_the_caller_waits_on(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_acd(tmp_path, make_config(sales=CALLBACK_AFTER_5S), clock) as acd:
        peer = ScriptedAsterisk(clock=clock, keys=["2", "123#"], keys_after="acd-callback-offer")

        async def hook() -> None:
            if "acd-callback-invalid" in peer.heard and peer.waits > 32:
                peer.hang_up = True

        peer.on_wait = hook
        with pytest.raises(CallerHangup):
            await wait_in_queue(acd, peer)

        assert peer.heard == [
            "acd-callback-offer",
            "acd-callback-enter-number",
            "acd-callback-invalid",
        ]
        events = [e[0] for e in await queue_events(acd, "call-1")]
        assert events == ["enter", "abandon"]


async def test_max_wait_callback_without_a_key_keeps_the_caller_waiting(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_acd(tmp_path, make_config(sales=CALLBACK_AFTER_5S), clock) as acd:
        peer = ScriptedAsterisk(clock=clock, on_dial=answering(acd, clock))
        state: dict[str, Any] = {"offer_at": None}

        async def hook() -> None:
            if "acd-callback-offer" in peer.heard and state["offer_at"] is None:
                state["offer_at"] = peer.waits
            if state["offer_at"] is not None and peer.waits == state["offer_at"] + 12:
                await acd.agent_event("8001", "log_in")  # 3 s after the offer
            await acd.dispatcher.run_pass()

        peer.on_wait = hook
        notes: list[str] = []
        outcome = await wait_in_queue(acd, peer, notes=notes)

        assert outcome == QueueOutcome("talked", "8001")
        assert peer.heard == ["acd-callback-offer"]  # offered once only
        assert peer.after(stream("acd-callback-offer", "12#"))[:3] == [
            stream("acd-callback-offer", "12#"),
            "WAIT FOR DIGIT 6000",
            "SET MUSIC on",
        ]
        assert "callback declined (key none)" in notes
        events = [e[0] for e in await queue_events(acd, "call-1")]
        assert events == ["enter", "offer", "answer", "complete"]
        assert await call_row(acd, "call-1") is None


# -- max wait: overflow and announce ------------------------------------------------------

OVERFLOW_AFTER_5S = {"max_wait": {"after": 5, "action": "overflow", "queue": "billing"}}


async def test_max_wait_overflow_moves_the_call_to_the_other_queue(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_acd(tmp_path, make_config(sales=OVERFLOW_AFTER_5S), clock) as acd:
        await log_in(acd, clock, "8003")  # billing only: no sales call for it
        seen: list[CallRecord] = []
        peer = ScriptedAsterisk(
            clock=clock, on_wait=passes(acd), on_dial=answering(acd, clock, seen=seen)
        )
        notes: list[str] = []
        outcome = await wait_in_queue(acd, peer, notes=notes)

        assert outcome == QueueOutcome("talked", "8003")
        assert ticks_before(peer, 'EXEC "Dial"') == 21  # 5 s in sales, then one pass
        assert peer.dials == ["PJSIP/8003,12,gmU(acd-agent^call-1^10.0.0.5^4573)"]
        assert (seen[0].queue, seen[0].state) == ("billing", "offered")
        assert seen[0].call.queued_at == pytest.approx(seen[0].call.entered_at + 5.0)
        log = await queue_log(acd, "call-1")
        assert [(r["event"], r["queue"], r["agent_id"]) for r in log] == [
            ("enter", "sales", None),
            ("overflow", "sales", None),
            ("offer", "billing", "8003"),
            ("answer", "billing", "8003"),
            ("complete", "billing", "8003"),
        ]
        assert log[1]["detail"] == "to billing"
        assert "overflow to billing" in notes


async def test_max_wait_announce_plays_the_prompt_and_names_the_destination(
    tmp_path: Path, clock: FakeClock
) -> None:
    action = {"after": 5, "action": "announce", "prompt": "acd-closed", "destination": "vm"}
    async with running_acd(tmp_path, make_config(sales={"max_wait": action}), clock) as acd:
        peer = ScriptedAsterisk(clock=clock, on_wait=passes(acd))
        outcome = await wait_in_queue(acd, peer)

        assert outcome == QueueOutcome("announce", destination="vm")
        assert peer.after("SET MUSIC off") == ["SET MUSIC off", stream("acd-closed")]
        assert await call_row(acd, "call-1") is None
        log = await queue_log(acd, "call-1")
        assert [(r["event"], r["detail"]) for r in log][1] == (
            "abandon",
            "max wait: announce, to vm",
        )


async def test_an_overflow_that_finds_the_call_offered_is_tried_again(
    tmp_path: Path, clock: FakeClock
) -> None:
    config = make_config(sales=OVERFLOW_AFTER_5S)
    async with running_acd(tmp_path, config, clock) as acd:
        other = Acd(acd.url, config, "other", clock=clock)  # a second engine instance
        try:
            await log_in(acd, clock, "8003")
            peer = ScriptedAsterisk(clock=clock)

            async def hook() -> None:
                if peer.waits == 20:  # max wait is due: the other instance reserves 8001
                    await acd.agent_event("8001", "log_in")
                    await other.dispatcher.run_pass()
                    return
                await acd.dispatcher.run_pass()
                if peer.waits > 40:
                    peer.hang_up = True

            async def dial(args: str) -> str:
                if args.startswith("PJSIP/8001,"):
                    return "NOANSWER"
                return await answering(acd, clock)(args)

            peer.on_wait = hook
            peer.on_dial = dial
            try:
                outcome: QueueOutcome | None = await wait_in_queue(acd, peer)
            except CallerHangup:
                outcome = None
            assert peer.dials[0].startswith("PJSIP/8001,")
            # past max wait and back in line: it should overflow, and 8003 takes it
            assert outcome == QueueOutcome("talked", "8003")
        finally:
            await other.stop()
