"""The first hotline call end to end: SIPp caller -> Asterisk -> FastAGI -> engine -> journal."""

from __future__ import annotations

import asyncio

import pytest

from tests.harness.engine import EngineProcess
from tests.harness.observer import AmiObserver
from tests.harness.sipp import answer_as_agent, place_call

pytestmark = pytest.mark.asterisk


async def test_caller_presses_5_hears_it_back_and_the_journal_records_it(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    caller = "13800138005"
    result = await place_call(caller, "10086", keys=[(2.5, "5")], max_duration=40)
    assert result.successful, result.describe()
    assert result.answered and result.far_hangup  # the engine hung up after goodbye

    record = engine.call_from(caller)
    assert record["dialled"] == "10086"
    assert record["keys"] == "5"
    assert (record["outcome"], record["hangup_side"]) == ("completed", "engine")
    assert record["channel"].startswith("PJSIP/callers-")
    details = [(s["kind"], s["detail"]) for s in record["steps"]]
    assert details[0][0] == "answer"
    assert any(k == "stream_file" and "hotline/welcome" in d for k, d in details)
    assert any(k == "keys" and d == "5" for k, d in details)
    offsets = [s["offset_ms"] for s in record["steps"]]
    assert offsets == sorted(offsets)

    # What the caller heard, from Asterisk's side: the prompts ran on the caller's channel.
    channel = record["channel"]
    heard = " | ".join(observer.agi_commands(channel))
    assert "hotline/welcome" in heard
    assert "SAY DIGITS" in heard and '"5"' in heard
    assert "hotline/thank-you-goodbye" in heard
    assert not observer.far_end_hung_up(channel)


async def test_caller_hanging_up_mid_prompt_ends_the_call_cleanly(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    caller = "13800138006"
    before = engine.health()
    assert before is not None
    result = await place_call(caller, "10086", hangup_after=1.5, max_duration=20)
    assert result.successful and result.we_hung_up, result.describe()

    record = engine.call_from(caller)
    assert (record["outcome"], record["hangup_side"]) == ("caller-hangup", "caller")
    assert record["keys"] == ""
    assert observer.far_end_hung_up(record["channel"])
    after = engine.health()
    assert after is not None and after["status"] == "ok"
    assert after["agi"]["caller_hangups"] == before["agi"]["caller_hangups"] + 1
    assert after["agi"]["live_sessions"] == 0


async def test_broken_connections_do_not_disturb_a_call_in_progress(
    engine: EngineProcess,
) -> None:
    before = engine.health()
    assert before is not None
    # One connection stalls mid-header, another closes mid-header: both while a call runs.
    stalled_reader, stalled = await asyncio.open_connection("127.0.0.1", engine.agi_port)
    stalled.write(b"agi_network: yes\nagi_network_script: hotline\nagi_chan")
    await stalled.drain()
    _, truncated = await asyncio.open_connection("127.0.0.1", engine.agi_port)
    truncated.write(b"agi_network: yes\nagi_req")
    await truncated.drain()
    truncated.close()

    caller = "13800138007"
    result = await place_call(caller, "10086", keys=[(2.5, "3")], max_duration=40)
    assert result.successful, result.describe()
    assert engine.call_from(caller)["keys"] == "3"
    # The stalled peer is cut at the header deadline, not left hanging.
    assert await asyncio.wait_for(stalled_reader.read(), 10) == b""
    stalled.close()

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
    finally:
        engine.start()


async def test_all_three_hotline_numbers_reach_the_engine_at_the_same_time(
    engine: EngineProcess,
) -> None:
    calls = {
        "10086": ("13800138011", "1"),
        "10000": ("13300133012", "2"),
        "10001": ("18900189013", "9"),
    }
    results = await asyncio.gather(
        *(
            place_call(caller, dialled, keys=[(2.5, key)], max_duration=40)
            for dialled, (caller, key) in calls.items()
        )
    )
    for result in results:
        assert result.successful, result.describe()
    for dialled, (caller, key) in calls.items():
        record = engine.call_from(caller)
        assert (record["dialled"], record["keys"], record["outcome"]) == (dialled, key, "completed")


async def test_shutdown_lets_a_live_call_finish(engine: EngineProcess) -> None:
    caller = "13800138014"
    call = asyncio.create_task(place_call(caller, "10086", keys=[(2.5, "8")], max_duration=40))
    try:
        for _ in range(100):  # wait until the call is in the engine
            health = engine.health()
            if health is not None and health["agi"]["live_sessions"] == 1:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the call never reached the engine")
        returncode = await asyncio.to_thread(engine.stop)  # SIGTERM, then wait for exit
        assert returncode == 0
        result = await call
        assert result.successful and result.far_hangup, result.describe()
    finally:
        engine.start()
    record = engine.call_from(caller)
    assert (record["keys"], record["outcome"], record["hangup_side"]) == (
        "8",
        "completed",
        "engine",
    )
