"""QueueDesk bound to one FastAGI call: the queue node's WaitingDesk. It serves the
queues of the ACD's configuration, waits through serve(), and turns the ACD's database
failing into DeskUnavailable, counted as an ``acd_database`` error."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.metrics import AcdErrorKind
from acd.service.acd import Acd
from ivr_engine.acd_asterisk.caller import QueueDesk
from ivr_engine.agi.channel import AgiChannel
from ivr_engine.agi.errors import CallerHangup
from ivr_engine.interpreter.waiting import DeskUnavailable, QueueOutcome
from tests.unit.acd_asterisk.scripted import (
    FakeClock,
    ScriptedAsterisk,
    agi_headers,
    agi_session,
    log_in,
    make_config,
)

HEADERS = agi_headers("PJSIP/callers-00000001", agi_callerid="13800138000")


class CountedErrors:
    """The ACD's metrics, keeping the errors only."""

    def __init__(self) -> None:
        self.errors: list[AcdErrorKind] = []

    def error(self, kind: AcdErrorKind) -> None:
        self.errors.append(kind)

    def acd_pass(self, seconds: float) -> None:
        pass

    def acd_decision(self, seconds: float) -> None:
        pass


async def test_it_serves_the_queues_of_the_configuration(acd: Acd) -> None:
    desk = QueueDesk(acd, "10.0.0.5", 4573)
    assert desk.serves("sales") and desk.serves("billing")
    assert not desk.serves("nowhere")


async def test_a_bound_desk_waits_in_the_calls_own_session(acd: Acd, clock: FakeClock) -> None:
    await log_in(acd, clock, "8001")

    async def run_pass() -> None:
        await acd.dispatcher.run_pass()

    async def dial(args: str) -> str:
        assert await acd.answered("call-1", "8001") is not None
        return "ANSWER"

    peer = ScriptedAsterisk(clock=clock, on_wait=run_pass, on_dial=dial)
    notes: list[str] = []
    async with agi_session(peer, HEADERS) as session:
        desk = QueueDesk(acd, "10.0.0.5", 4573).for_call(AgiChannel(session, "en"))
        assert desk.serves("sales")
        outcome = await desk.wait("call-1", "sales", notes.append)
    assert outcome == QueueOutcome("talked", "8001")
    assert notes == ["enter sales priority=0", "offer 8001", "talked 8001"]
    assert peer.dials == ["PJSIP/8001,12,gmU(acd-agent^call-1^10.0.0.5^4573)"]


async def test_a_database_out_of_reach_is_counted_and_reported(tmp_path: Path) -> None:
    metrics = CountedErrors()
    url = f"sqlite+aiosqlite:///{tmp_path / 'no such folder' / 'acd.db'}"
    broken = Acd(url, make_config(), "test", metrics=metrics)
    peer = ScriptedAsterisk()
    try:
        async with agi_session(peer, HEADERS) as session:
            desk = QueueDesk(broken, "10.0.0.5", 4573).for_call(AgiChannel(session, "en"))
            with pytest.raises(DeskUnavailable) as raised:
                await desk.wait("call-1", "sales", lambda _detail: None)
    finally:
        await broken.stop()
    assert raised.value.kind == "OperationalError"
    assert metrics.errors == ["acd_database"]
    assert broken.tickets == {}
    assert peer.commands == []  # the call never got as far as music on hold


async def test_a_hang_up_is_the_callers_not_the_desks(acd: Acd, clock: FakeClock) -> None:
    peer = ScriptedAsterisk(clock=clock)

    async def hang_up() -> None:
        peer.hang_up = True

    peer.on_wait = hang_up
    async with agi_session(peer, HEADERS) as session:
        desk = QueueDesk(acd, "10.0.0.5", 4573).for_call(AgiChannel(session, "en"))
        with pytest.raises(CallerHangup):
            await desk.wait("call-1", "sales", lambda _detail: None)
    assert acd.tickets == {}  # abandoned as the caller's hang-up
