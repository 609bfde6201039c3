"""Asterisk restarted under 50 live calls: the session engine survives it.

Three callers talk to SIPp agents, twelve wait in the shared pool's queue with nobody free,
thirty-five walk the main menu; then the test bed is restarted (``asterisk/ctl.sh
restart``: every channel is hung up, AMI goes away and comes back). The engine must be
back on AMI within 5 s of Asterisk listening again, journal every call with its real end
(Asterisk ended it: ``asterisk-hangup``, or ``connection-lost`` when Asterisk was gone
before the engine could ask), leave no agent reserved or on a call and no waiting call
behind, and take calls through the ACD again.

The module restarts the shared test bed; the session engine stays up throughout.
"""

from __future__ import annotations

import asyncio
import functools
import time
from datetime import datetime
from typing import Any

import pytest

from ivr_engine.settings import load_settings
from testbed.acd import AcdProbe
from testbed.asterisk import CTL
from testbed.engine import EngineProcess
from testbed.sipp import answer_as_agent, place_call
from tests.integration.acd_calls import talk_for
from tests.integration.faults import (
    BUSY_AGENT_STATES,
    ZERO,
    asks_for_agent,
    eventually,
    in_menus,
    live_hotline_calls,
    off_loop,
    one_finished_record_each,
    port_open,
)
from tests.integration.hotline import now, steps

pytestmark = pytest.mark.asterisk

AGENTS = ["8021", "8022", "8023"]
TALKING = [f"186001000{n:02d}" for n in range(3)]  # put through to the three agents
WAITING = [f"186001001{n:02d}" for n in range(12)]  # in the queue, nobody free
IN_MENUS = [f"186001002{n:02d}" for n in range(35)]  # in the main menu
RECONNECT_S = 5.0  # the engine is back on AMI within this of Asterisk listening again
CUT = ("asterisk-hangup", "connection-lost")  # how a call Asterisk took down ends


async def _restart_asterisk() -> str:
    proc = await asyncio.create_subprocess_exec(
        str(CTL),
        "restart",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, out.decode(errors="replace")
    return out.decode(errors="replace")


async def _watch_reconnect(engine: EngineProcess, reconnects_before: int) -> tuple[float, float]:
    """Poll (every 0.1 s) until AMI's port is gone, then open again, then the engine's
    link is connected on a new session; (port open again, engine connected), monotonic."""
    ami = load_settings().ami
    host = "127.0.0.1" if ami.host in ("", "0.0.0.0") else ami.host

    def listening() -> bool:
        return port_open(host, ami.port)

    def reconnected() -> bool:
        link = (engine.health() or {}).get("ami", {})
        return bool(link.get("state") == "connected" and link["reconnects"] > reconnects_before)

    await eventually(lambda: not listening(), 60, "AMI's port closed", every=0.1)
    await eventually(listening, 60, "AMI's port open again", every=0.1)
    back = time.monotonic()
    await eventually(reconnected, 60, "the engine back on AMI", every=0.1)
    return back, time.monotonic()


async def test_asterisk_restarted_under_fifty_calls(engine: EngineProcess, acd: AcdProbe) -> None:
    since = now()
    health = engine.health()
    assert health is not None and health["ami"]["state"] == "connected"
    reconnects_before = int(health["ami"]["reconnects"])
    acd.log_in(*AGENTS)
    phones = [await answer_as_agent(agent, max_duration=150) for agent in AGENTS]
    calls: dict[str, asyncio.Task[Any]] = {}
    try:
        for caller in TALKING:
            calls[caller] = asks_for_agent(caller)
        await eventually(
            lambda: all(s == "on-call" for a, s in acd.states().items() if a in AGENTS),
            60,
            "the three agents talking",
        )
        for caller in WAITING:
            calls[caller] = asks_for_agent(caller)
            await asyncio.sleep(0.1)
        for caller in IN_MENUS:
            calls[caller] = in_menus(caller)
            await asyncio.sleep(0.1)
        await eventually(
            lambda: len([r for r in acd.waiting() if r["state"] == "waiting"]) == len(WAITING),
            60,
            "twelve callers waiting",
        )
        await eventually(
            lambda: live_hotline_calls(engine) == len(calls), 60, "all 50 calls in the engine"
        )
        # Everyone has been in place a while (the reconciler's grace is measured from it).
        waiting_ids = {r["caller"]: r["call_id"] for r in await off_loop(acd.waiting)}

        watcher = asyncio.ensure_future(_watch_reconnect(engine, reconnects_before))
        restarted_at = now()
        await _restart_asterisk()
        listening, connected = await asyncio.wait_for(watcher, 60)
        results = dict(zip(calls, await asyncio.gather(*calls.values()), strict=True))
        agent_results = [await phone.result(timeout=30) for phone in phones]
    finally:
        for task in calls.values():
            task.cancel()
        for phone in phones:
            await phone.stop()

    # AMI back within 5 s of Asterisk listening again (ctl.sh start returns once it does).
    assert connected - listening <= RECONNECT_S, (listening, connected, engine.log_tail())

    # Every caller was answered and then hung up by Asterisk, never by the test.
    for result in results.values():
        assert result.answered and result.far_hangup, result.describe()
    for result in agent_results:
        assert result.answered and result.far_hangup, result.describe()

    # Every call has exactly one record, finished with how it really ended.
    records = await eventually(
        lambda: one_finished_record_each(engine.recent_calls(500), results, since),
        20,
        "a finished record of each call",
    )
    for caller, record in records.items():
        ended = datetime.fromisoformat(record["ended_at"])
        assert ended >= restarted_at, record
        # A talking call may see its agent's leg end first (Dial returns ANSWER), and then
        # ends as a call that reached an agent, which is what it was.
        ends = (*CUT, "agent") if caller in TALKING else CUT
        assert str(record["outcome"]).startswith(ends), record
        sides = ("asterisk", "unknown", "engine") if record["outcome"] == "agent" else None
        assert record["hangup_side"] in (sides or ("asterisk", "unknown")), record
        if caller in TALKING:
            assert any(s.startswith("offer ") for s in steps(record, "acd")), record
        elif caller in WAITING:
            assert steps(record, "acd")[:1] == ["enter general priority=0"], record
        else:
            assert "queue" not in {s["kind"] for s in record["steps"]}, record
    assert not [
        r
        for r in await off_loop(lambda: engine.recent_calls(500))
        if not r["ended_at"] and datetime.fromisoformat(r["started_at"]) >= since
    ], "a call is left in progress"

    # The ACD: no agent reserved or on a call, nothing left waiting for a dead call.
    states = await off_loop(acd.states)
    assert not {a: s for a, s in states.items() if s in BUSY_AGENT_STATES}, states
    assert await off_loop(acd.waiting) == []
    for caller, call_id in waiting_ids.items():
        log = [e["event"] for e in await off_loop(functools.partial(acd.queue_log, call_id))]
        expected = "complete" if caller in TALKING else "abandon"
        assert log[-1] == expected, (caller, log)
    health = await off_loop(engine.health)
    assert health is not None
    assert health["agi"]["live_sessions"] == 0, health["agi"]
    assert health["journal"]["dropped"] == 0 and health["journal"]["pending"] == 0

    # And calls reach agents through the ACD again.
    await off_loop(lambda: acd.log_in("8024"))
    again = "18600100300"
    after = now()
    async with await answer_as_agent("8024", talk_for=talk_for("general")) as phone:
        result = await place_call(again, "10086", keys=[ZERO], max_duration=60)
        answered = await phone.result(timeout=60)
    assert result.answered and answered.answered and answered.caller == again, answered.describe()
    record = await off_loop(lambda: engine.call_from(again, since=after, timeout=15))
    assert "talked 8024" in steps(record, "acd"), record
