"""Hotline calls end to end: SIPp caller -> Asterisk -> FastAGI -> engine (demo menus) ->
journal, and what happens around them: the caller hanging up, broken FastAGI connections,
the engine down, the three hotline numbers at once, the engine shutting down mid-call.
Calls for an agent go through the ACD: each test logs in the agent it expects."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from testbed.acd import AcdProbe
from testbed.engine import EngineProcess
from testbed.observer import AmiObserver
from testbed.prompt_timing import MARGIN, seconds_of
from testbed.sipp import answer_as_agent, place_call
from tests.integration.acd_calls import assert_put_through, talk_for
from tests.integration.hotline import (
    dialled_apps,
    explain,
    heard,
    kinds,
    now,
    number,
    steps,
)

pytestmark = pytest.mark.asterisk


async def _wait_for_live_call(engine: EngineProcess, sessions: int = 1) -> None:
    for _ in range(100):
        health = engine.health()
        if health is not None and health["agi"]["live_sessions"] >= sessions:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the call never reached the engine:\n{engine.log_tail()}")


async def test_a_call_end_to_end_is_journalled_and_reaches_its_agent(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    """Other-network caller presses 8 (group customers) during the welcome: the
    group-customers queue, whose agent 8017 takes it."""
    acd.log_in("8017")  # group-customers:4
    caller, since = "13300133005", now()
    talk = talk_for("group-customers")
    async with await answer_as_agent("8017", answer_after=0.5, talk_for=talk) as agent:
        result = await place_call(caller, "10086", keys=[(1.0, "8")], max_duration=40)
        agent_result = await agent.result(timeout=40)
    assert result.successful and result.answered and result.far_hangup, result.describe()
    assert agent_result.answered and agent_result.caller == caller, agent_result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    # The record as the operator reads it: `ivr-engine calls --json`.
    assert record in engine.calls(limit=5), why
    assert record["dialled"] == "10086", why
    assert (record["keys"], record["outcome"], record["hangup_side"]) == ("8", "agent", "engine")
    assert record["channel"].startswith("PJSIP/callers-"), why
    assert kinds(record)[:2] == ["answer", "set_variable"], why
    # The language only: the ACD dials the agent itself, nothing is left for the dialplan
    # (no IVR_SKILLS, IVR_PRIORITY or IVR_TRANSFER).
    assert kinds(record).count("set_variable") == 1, why
    assert steps(record, "set_variable")[0].startswith('"CHANNEL(language)" "zh"'), why
    assert len(steps(record, "menu-version")) == 1, why
    (lookup,) = steps(record, "lookup")
    assert "known=False" in lookup and "network=other" in lookup, why
    assert steps(record, "branch")[0] == "cm-screen default -> cm-welcome-other", why
    assert "cm-group (queue)" in steps(record, "node"), why
    assert steps(record, "queue") == ["cm-group skills=group-customers:1 priority=5"], why
    assert steps(record, "keys") == ["8"], why
    assert steps(record, "outcome") == ["agent"], why
    assert steps(record, "prompt") == ["cm-welcome-other", "cm-connecting-group"], why
    assert steps(record, "acd") == [
        "enter group-customers priority=5",
        "offer 8017",
        "talked 8017",
    ], why
    offsets = [s["offset_ms"] for s in record["steps"]]
    assert offsets == sorted(offsets), why

    # Asterisk's side: what the caller heard, and where the dialplan took the call.
    channel = record["channel"]
    assert heard(observer, channel) == ["cm-welcome-other", "cm-connecting-group"], why
    assert_put_through(observer, record, "8017", agi_port=engine.agi_port)
    assert dialled_apps(observer, channel) == []  # no Dial of the dialplan's own
    assert not observer.far_end_hung_up(channel)  # the agent left, the engine hung up


async def test_caller_hanging_up_mid_prompt_ends_the_call_cleanly(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    caller, since = "13300133006", now()
    before = engine.health()
    assert before is not None
    result = await place_call(caller, "10086", hangup_after=1.5, max_duration=20)
    assert result.successful and result.we_hung_up, result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert (record["outcome"], record["hangup_side"]) == ("caller-hangup", "caller"), why
    assert record["keys"] == "", why
    assert heard(observer, record["channel"]) == ["cm-welcome-other"], why
    assert observer.far_end_hung_up(record["channel"])
    after = engine.health()
    assert after is not None and after["status"] == "ok"
    assert after["agi"]["caller_hangups"] == before["agi"]["caller_hangups"] + 1
    assert after["agi"]["live_sessions"] == 0


async def test_broken_connections_do_not_disturb_a_call_in_progress(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    acd.log_in("8037")  # billing:4
    before = engine.health()
    assert before is not None
    caller, since = "13300133007", now()
    talk = talk_for("billing")
    async with await answer_as_agent("8037", answer_after=0.5, talk_for=talk) as agent:
        call = asyncio.create_task(place_call(caller, "10000", keys=[(1.0, "2")], max_duration=60))
        await _wait_for_live_call(engine)
        # While the call runs: one connection stalls mid-header, another closes mid-header.
        stalled_reader, stalled = await asyncio.open_connection("127.0.0.1", engine.agi_port)
        stalled.write(b"agi_network: yes\nagi_network_script: hotline\nagi_chan")
        await stalled.drain()
        _, truncated = await asyncio.open_connection("127.0.0.1", engine.agi_port)
        truncated.write(b"agi_network: yes\nagi_req")
        await truncated.drain()
        truncated.close()
        # The stalled peer is cut at the header deadline, not left hanging.
        assert await asyncio.wait_for(stalled_reader.read(), 10) == b""
        stalled.close()
        result = await call
        agent_result = await agent.result(timeout=60)
    assert result.successful and result.far_hangup, result.describe()
    assert agent_result.answered, agent_result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert (record["keys"], record["outcome"]) == ("2", "agent"), why
    assert heard(observer, record["channel"]) == [
        "ct-welcome",
        "ct-connecting-agent",
        "ss-survey",  # after the agent; no answer
        "ss-goodbye",
    ], why
    assert_put_through(observer, record, "8037")

    after = engine.health()
    assert after is not None
    bad_before, bad_after = before["agi"]["bad_connections"], after["agi"]["bad_connections"]
    assert bad_after["truncated"] == bad_before["truncated"] + 1
    assert bad_after["header_timeout"] == bad_before["header_timeout"] + 1
    # The event loop never stalled behind them (panoramisk's header loop would freeze it).
    assert after["event_loop"]["max_lag_ms"] < 500


async def test_engine_down_the_caller_hears_the_apology_and_reaches_the_fallback(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    engine.stop()
    try:
        caller = "13800138008"
        async with await answer_as_agent("8001", answer_after=0.5, talk_for=1.0) as agent:
            result = await place_call(caller, "10086", max_duration=40)
            agent_result = await agent.result(timeout=40)
        assert result.successful and result.answered, result.describe()
        assert agent_result.answered, agent_result.describe()
        assert agent_result.caller == caller

        channel = observer.channels_of_caller(caller)[0]
        apps = observer.applications(channel)
        assert ("Playback", "hotline/apology-fallback") in apps
        assert any(app == "Dial" and data.startswith("PJSIP/8001") for app, data in apps)
        assert any("AGISTATUS=FAILURE" in data for app, data in apps if app == "NoOp")
        assert heard(observer, channel) == []  # no engine, no menu
    finally:
        engine.start()


async def test_all_three_hotline_numbers_reach_the_engine_at_the_same_time(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    points = number(450)  # 15000150000's points in the demo data
    read_out = seconds_of("ss-your-points", *points)
    calls = {  # dialled: (caller, key, hang up after, what the caller hears)
        # 15100151000's blacklist entry has expired: an ordinary Easy Own welcome.
        "10086": ("15100151000", "1", 3.5, ["cm-welcome-easyown", "cm-billing-menu"]),
        "10000": ("13300133012", "2", 3.5, ["ct-welcome", "ct-connecting-agent"]),
        "10001": (
            "15000150000",
            "2",
            1.3 + read_out + MARGIN + 0.4,
            ["ss-menu", "ss-your-points", *points, "ss-menu"],
        ),
    }
    since = now()
    results = await asyncio.gather(
        *(
            place_call(caller, dialled, keys=[(1.0, key)], hangup_after=after, max_duration=40)
            for dialled, (caller, key, after, _) in calls.items()
        )
    )
    for result in results:
        assert result.successful and result.we_hung_up, result.describe()
    records = []
    for dialled, (caller, key, _, prompts) in calls.items():
        record = engine.call_from(caller, since=since)
        why = explain(record, observer)
        assert (record["dialled"], record["keys"]) == (dialled, key), why
        assert (record["outcome"], record["hangup_side"]) == ("caller-hangup", "caller"), why
        assert heard(observer, record["channel"]) == prompts, why
        records.append(record)
    # The three calls were in the engine at the same time.
    starts = [datetime.fromisoformat(r["started_at"]) for r in records]
    ends = [datetime.fromisoformat(r["ended_at"]) for r in records]
    assert max(starts) < min(ends)


async def test_shutdown_lets_a_live_call_finish(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    """SIGTERM while the caller hears the welcome: the engine still takes the caller's key
    (pressed after the signal), puts the call through to its agent, and only then exits."""
    acd.log_in("8003")
    caller, since = "13300133014", now()
    talk = talk_for("general")
    async with await answer_as_agent("8003", answer_after=0.5, talk_for=talk) as agent:
        call = asyncio.create_task(place_call(caller, "10086", keys=[(3.0, "0")], max_duration=40))
        try:
            await _wait_for_live_call(engine)
            signalled = now()
            returncode = await asyncio.to_thread(engine.stop)  # SIGTERM, then wait for exit
            stopped = now()
            assert returncode == 0, engine.log_tail()
            result = await call
            agent_result = await agent.result(timeout=40)
        finally:
            engine.start()
    assert result.successful and result.far_hangup, result.describe()
    assert agent_result.answered, agent_result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert (record["keys"], record["outcome"], record["hangup_side"]) == ("0", "agent", "engine")
    ended = datetime.fromisoformat(record["ended_at"])
    assert signalled < ended <= stopped, why  # the engine waited for the call
    (key_step,) = [s for s in record["steps"] if s["kind"] == "keys"]
    assert datetime.fromisoformat(key_step["at"]) > signalled, why  # pressed after SIGTERM
    assert heard(observer, record["channel"]) == ["cm-welcome-other", "cm-connecting-agent"], why
    assert_put_through(observer, record, "8003")
