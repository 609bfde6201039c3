"""The ACD through the real Asterisk: SIPp callers and SIPp agents.

Agents dial their feature codes from their own phones (the From user names the agent);
callers walk the demo menus to a queue node, wait there (music, position and wait
announced) and are dialled through to the agent the ACD reserved:
``Dial(PJSIP/80NN,15,gmU(acd-agent^<call id>^...))``, with the whisper on the agent's
channel first. Each test checks what the caller heard, where the call went (the Dial of
each agent and its DialEnd), the journal's ``acd`` steps, and the agents' state log and
the queue log (testbed/acd.py).

Every test starts with all agents logged out and nothing waiting (the ``acd`` fixture) and
logs in the agents it needs. Agents of config/acd.yaml used here: 8001 (vip:5, gotone:5,
general:4), 8009 (gotone:4, general:3), 8021 and 8022 (general:2), 8037 (billing:4),
8041 (complaints:4).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import pytest

from ground.paths import PROJECT_ROOT
from testbed.acd import AcdProbe
from testbed.engine import EngineProcess
from testbed.observer import AmiObserver
from testbed.prompt_timing import prompt_seconds, seconds_of
from testbed.sipp import answer_as_agent, place_call
from testbed.sipp_result import SippResult
from tests.integration.acd_calls import (
    RING_S,
    acd_dials,
    agent_channels,
    agent_dials,
    assert_put_through,
    dial_prefix,
    talk_for,
)
from tests.integration.hotline import dial_statuses, explain, heard, now, steps, timeline

pytestmark = pytest.mark.asterisk

T = TypeVar("T")

KEY = 0.3  # a key is sent for 0.2 s; the engine has it about this long after it started
ZERO = (1.0, "0")  # 0 during the 10086 welcome (which it stops): to the caller's queue
MONITOR = "asterisk/root/var/spool/asterisk/monitor"
WAV_HEADER = 44  # bytes of a WAV file without a single sample


async def _until(what: str, check: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll ``check`` (run in a worker thread: the probe and the journal are synchronous)
    until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.2)


def _queue_events(acd: AcdProbe, call_id: str) -> list[tuple[str, str | None]]:
    return [(e["event"], e["agent_id"]) for e in acd.queue_log(call_id)]


def _event(acd: AcdProbe, call_id: str, event: str) -> dict[str, Any]:
    (found,) = [e for e in acd.queue_log(call_id) if e["event"] == event]
    return found


def _waiting_ids(acd: AcdProbe) -> list[str]:
    return [row["call_id"] for row in acd.waiting() if row["state"] == "waiting"]


def _waiting_count(acd: AcdProbe, count: int) -> bool:
    return len(_waiting_ids(acd)) == count


def _acd_steps(record: dict[str, Any]) -> list[str]:
    """The record's ``acd`` steps without the position announcements."""
    return [s for s in steps(record, "acd") if not s.startswith("announce ")]


def _call(caller: str, keys: list[tuple[float, str]], dialled: str = "10086") -> Any:
    return asyncio.create_task(place_call(caller, dialled, keys=keys, max_duration=150))


def _check(result: SippResult) -> None:
    assert result.successful and result.answered and result.far_hangup, result.describe()


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


# --- a. feature codes -----------------------------------------------------------------------


async def _feature(observer: AmiObserver, agent: str, code: str) -> tuple[str, list[str]]:
    """The agent dials ``code`` from its phone: (its channel, the prompts it heard)."""
    mark = observer.mark()
    result = await place_call(agent, code, max_duration=20)
    assert result.successful and result.answered and result.far_hangup, result.describe()
    (channel,) = observer.channels_of_caller(agent, since=mark)
    assert channel.startswith(f"PJSIP/{agent}-"), channel
    return channel, heard(observer, channel)


async def test_feature_codes_log_in_pause_ready_and_log_out(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    agent, since = "8021", now()
    steps_expected = [  # code, what the agent hears, state after, pause reason after
        ("*11", "agent-logged-in", "available", None),
        ("*13*2", "agent-paused", "paused", "lunch"),
        ("*14", "agent-ready", "available", None),
        ("*14", "agent-code-refused", "available", None),  # ready while available
        ("*19", "agent-code-invalid", "available", None),  # no such code
        ("*12", "agent-logged-out", "logged-out", None),
    ]
    for code, prompt, state, reason in steps_expected:
        channel, prompts = await _feature(observer, agent, code)
        assert prompts == [prompt], (code, prompts, observer.agi_commands(channel))
        row = await asyncio.to_thread(acd.agent, agent)
        assert (row["state"], row["pause_reason"]) == (state, reason), (code, row)
        # The dialplan ran the engine's route with the code dialled.
        assert any(
            app == "AGI" and data.endswith(f"/agent-feature,{code}")
            for app, data in observer.applications(channel)
        ), observer.applications(channel)

    log = [
        (e["event"], e["from_state"], e["to_state"], e["reason"])
        for e in acd.state_log(agent, since=since)
    ]
    assert log == [
        ("log_in", "logged-out", "available", None),
        ("pause", "available", "paused", "lunch"),
        ("ready", "paused", "available", None),
        ("log_out", "available", "logged-out", None),
    ], log


async def test_any_star_code_reaches_the_engine_and_an_unknown_one_is_named(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    """Every code starting with * goes to the engine: *99 and *13*12 (reason 12 does not
    exist) are answered with "that is not a feature code", and the agent's state is
    untouched."""
    acd.log_in("8021")
    for code in ("*99", "*13*12", "*7"):
        channel, prompts = await _feature(observer, "8021", code)
        assert prompts == ["agent-code-invalid"], (code, observer.agi_commands(channel))
    assert acd.states()["8021"] == "available"


# --- b. skills and closest fit --------------------------------------------------------------


async def _agent_call(engine: EngineProcess, caller: str, agent: str, queue: str) -> dict[str, Any]:
    """``caller`` presses 0 in the 10086 welcome; ``agent`` answers and talks."""
    since = now()
    async with await answer_as_agent(agent, talk_for=talk_for(queue), max_duration=60) as phone:
        result = await place_call(caller, "10086", keys=[ZERO], max_duration=60)
        agent_result = await phone.result(timeout=60)
    _check(result)
    assert agent_result.answered and agent_result.caller == caller, agent_result.describe()
    return engine.call_from(caller, since=since)


async def test_calls_go_to_agents_with_the_skill_and_the_closest_fit(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    """8021 (general:2) and 8009 (gotone:4, general:3) are free. A GoTone caller's 0 goes
    to the gotone queue: only 8009 has the skill. An Easy Own caller's 0 goes to the
    general queue, which both can take: closest fit picks 8021 (general 2 < 3)."""
    acd.log_in("8021", "8009")

    gotone = await _agent_call(engine, "13900139000", "8009", "gotone")
    why = explain(gotone, observer)
    assert heard(observer, gotone["channel"]) == ["cm-welcome-gotone", "cm-connecting-agent"], why
    assert _acd_steps(gotone) == ["enter gotone priority=5", "offer 8009", "talked 8009"], why
    assert_put_through(observer, gotone, "8009", agi_port=engine.agi_port)
    assert _queue_events(acd, gotone["call_id"]) == [
        ("enter", None),
        ("offer", "8009"),
        ("answer", "8009"),
        ("complete", "8009"),
    ]

    # 8009 is in wrap-up now; it says ready, so that both are free again.
    await _until("8009 in wrap-up", lambda: acd.states()["8009"] == "wrap-up")
    acd.event("8009", "ready")
    assert {a: s for a, s in acd.states().items() if s != "logged-out"} == {
        "8009": "available",
        "8021": "available",
    }

    general = await _agent_call(engine, "15800158000", "8021", "general")
    why = explain(general, observer)
    assert heard(observer, general["channel"]) == [
        "cm-welcome-easyown",
        "cm-connecting-agent",
    ], why
    assert _acd_steps(general) == ["enter general priority=0", "offer 8021", "talked 8021"], why
    assert_put_through(observer, general, "8021", agi_port=engine.agi_port)
    assert [e for e, _ in _queue_events(acd, general["call_id"])] == [
        "enter",
        "offer",
        "answer",
        "complete",
    ]


async def test_an_agent_whose_phone_is_in_use_is_not_offered_calls(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    """8029 (general 1) is the closest fit for a shared-pool caller and available in the
    ACD, but its phone is busy with a call the ACD did not route: Asterisk reports the
    device in use (AMI device state), so the caller goes to 8022 and 8029 is never rung."""
    acd.log_in("8029", "8022")
    mark = observer.mark()
    async with await answer_as_agent("8029", answer_after=0.2, max_duration=90) as private:
        await asyncio.to_thread(
            observer.action,
            {
                "Action": "Originate",
                "Channel": "PJSIP/8029",
                "Application": "Wait",
                "Data": "60",
                "Async": "true",
            },
        )
        await observer.wait_for_async(
            lambda e: (
                e.name == "DeviceStateChange"
                and e.get("Device") == "PJSIP/8029"
                and e.get("State") == "INUSE"
            ),
            20,
            since=mark,
            description="8029's phone in use",
        )
        (busy,) = [
            str(e.get("Channel"))
            for e in observer.events("Newchannel", since=mark)
            if str(e.get("Channel") or "").startswith("PJSIP/8029-")
        ]
        try:
            record = await _agent_call(engine, "15800158000", "8022", "general")
            assert private.running  # 8029's own call went on meanwhile
        finally:
            await asyncio.to_thread(observer.action, {"Action": "Hangup", "Channel": busy})
    why = explain(record, observer)
    assert agent_dials(observer, str(record["channel"])) == ["8022"], why
    assert_put_through(observer, record, "8022")
    assert acd.states()["8029"] == "available", why  # never reserved, never rung


# --- c. priority ----------------------------------------------------------------------------


async def test_a_gotone_caller_overtakes_ordinary_callers_already_waiting(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    """Two ordinary callers wait in general, then a GoTone caller (priority 5) in gotone;
    8009, who serves both queues, gets ready: the GoTone caller first, then the ordinary
    callers in the order they came, each after 8009's wrap-up."""
    acd.log_in("8009")
    acd.event("8009", "pause")  # seated, but not taking calls yet
    since = now()
    callers = {"first": "15800158000", "second": "15000150000", "gotone": "13900139000"}
    calls = {}
    for n, (name, caller) in enumerate(callers.items(), start=1):
        calls[name] = _call(caller, [ZERO])
        await _until(f"{n} callers waiting", functools.partial(_waiting_count, acd, n))
    entered = _waiting_ids(acd)

    served: list[str] = []
    for queue in ("gotone", "general", "general"):
        phone = await answer_as_agent("8009", talk_for=talk_for(queue), max_duration=90)
        if not served:
            acd.event("8009", "ready")
        agent_result = await phone.result(timeout=90)
        assert agent_result.answered, agent_result.describe()
        served.append(agent_result.caller or "")
    for task in calls.values():
        _check(await task)

    records = {name: engine.call_from(caller, since=since) for name, caller in callers.items()}
    why = "\n".join(explain(r, observer) for r in records.values())
    ids = {name: r["call_id"] for name, r in records.items()}
    assert served == [callers["gotone"], callers["first"], callers["second"]], why
    assert entered == [ids["first"], ids["second"], ids["gotone"]], why

    offers = [e for e in acd.queue_log(since=since) if e["event"] == "offer"]
    assert [(e["call_id"], e["agent_id"]) for e in offers] == [
        (ids["gotone"], "8009"),
        (ids["first"], "8009"),
        (ids["second"], "8009"),
    ], why
    assert steps(records["gotone"], "acd")[0] == "enter gotone priority=5", why
    for name in ("first", "second"):
        assert steps(records[name], "acd")[0] == "enter general priority=0", why
    # Each ordinary caller heard its place while 8009 was busy: the second one was second.
    assert steps(records["first"], "acd")[1].startswith("announce position=1 "), why
    assert steps(records["second"], "acd")[1].startswith("announce position=2 "), why
    for record in records.values():
        assert_put_through(observer, record, "8009")
        assert record["outcome"] == "agent", why
    waited = heard(observer, records["second"]["channel"])
    assert waited[:3] == ["cm-welcome-mzone", "cm-connecting-agent", "acd-position-before"], why
    # Each next call was offered only once 8009's wrap-up after the previous one was over.
    log = [(e["event"], e["to_state"], e["call_id"]) for e in acd.state_log("8009", since=since)]
    reserves = [c for e, _, c in log if e == "reserve"]
    assert reserves == [ids["gotone"], ids["first"], ids["second"]], log
    expired = [i for i, (e, _, _) in enumerate(log) if e == "wrap_up_expired"]
    reserved = [i for i, (e, _, _) in enumerate(log) if e == "reserve"]
    assert len(expired) >= 2 and expired[0] < reserved[1] and expired[1] < reserved[2], log


# --- d. ring no answer ----------------------------------------------------------------------


async def test_no_answer_goes_to_the_next_agent_and_two_misses_pause_the_agent(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    """8021's phone rings but is never answered: after the ring timeout (15 s) the call
    goes to 8022, keeping its place (its wait counts from when it came); 8021 has one
    missed call. A second call that 8021 lets ring out pauses it (max_missed 2)."""
    caller = "15800158000"
    acd.log_in("8021")  # alone at first, so the first offer is surely 8021's
    since = now()
    never = await answer_as_agent("8021", answer_after=60, expect_answer=False, max_duration=90)
    talker = await answer_as_agent("8022", talk_for=talk_for("general"), max_duration=90)
    async with never, talker:
        call = _call(caller, [ZERO])
        offer = await _until(
            "offer to 8021",
            lambda: [e for e in acd.queue_log(since=since) if e["event"] == "offer"],
        )
        assert offer[0]["agent_id"] == "8021"
        acd.log_in("8022")  # free now, while 8021 rings
        _check(await call)
        assert not (await never.result(timeout=30)).answered
        assert (await talker.result(timeout=30)).answered

    first = engine.call_from(caller, since=since)
    why = explain(first, observer)
    channel = first["channel"]
    assert heard(observer, channel) == ["cm-welcome-easyown", "cm-connecting-agent"], why
    assert agent_dials(observer, channel) == ["8021", "8022"], why
    assert [(d.split("-")[0], s) for d, s in dial_statuses(observer, channel)] == [
        ("PJSIP/8021", "NOANSWER"),
        ("PJSIP/8022", "ANSWER"),
    ], why
    dials = acd_dials(observer, channel)
    assert dials[0].startswith(dial_prefix("8021")), dials
    assert dials[1].startswith(dial_prefix("8022")), dials
    assert _acd_steps(first) == [
        "enter general priority=0",
        "offer 8021",
        "ring 8021 -> NOANSWER",
        "offer 8022",
        "talked 8022",
    ], why
    assert _queue_events(acd, first["call_id"]) == [
        ("enter", None),
        ("offer", "8021"),
        ("ring-no-answer", "8021"),
        ("offer", "8022"),
        ("answer", "8022"),
        ("complete", "8022"),
    ]
    rang = _seconds(_event(acd, first["call_id"], "ring-no-answer")["at"], offer[0]["at"])
    assert rang >= RING_S - 1, rang  # it rang out its 15 s
    answer = _event(acd, first["call_id"], "answer")
    assert answer["wait_s"] >= RING_S - 1, answer  # the wait counts from its entry
    row = acd.agent("8021")
    assert (row["state"], row["missed_in_row"]) == ("available", 1), row

    # The second call: 8022 logs out after its call; 8021 lets it ring out again.
    await _until("8022 in wrap-up", lambda: acd.states()["8022"] == "wrap-up")
    acd.event("8022", "log_out")
    since = now()
    never = await answer_as_agent("8021", answer_after=60, expect_answer=False, max_duration=90)
    talker = await answer_as_agent("8022", talk_for=talk_for("general"), max_duration=90)
    async with never, talker:
        call = _call(caller, [ZERO])
        await _until("8021 paused", lambda: acd.states()["8021"] == "paused", timeout=60)
        acd.log_in("8022")
        _check(await call)
        assert not (await never.result(timeout=30)).answered
        assert (await talker.result(timeout=30)).answered

    second = engine.call_from(caller, since=since)
    why = explain(second, observer)
    assert agent_dials(observer, second["channel"]) == ["8021", "8022"], why
    assert _acd_steps(second)[:3] == [
        "enter general priority=0",
        "offer 8021",
        "ring 8021 -> NOANSWER",
    ], why
    assert _acd_steps(second)[-1] == "talked 8022", why
    row = acd.agent("8021")
    assert (row["state"], row["pause_reason"], row["missed_in_row"]) == (
        "paused",
        "missed-calls",
        2,
    ), row
    log = acd.state_log("8021", since=since)
    last = log[-1]
    assert (last["event"], last["from_state"], last["to_state"], last["reason"]) == (
        "ring_no_answer",
        "reserved",
        "paused",
        "missed-calls",
    ), log
    assert last["call_id"] == second["call_id"], log


# --- e. wrap-up -----------------------------------------------------------------------------


async def test_the_next_caller_waits_for_the_agents_wrap_up(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    """8021 alone: the second caller arrives while 8021 talks to the first, and is offered
    to 8021 only once its wrap-up (15 s for general) after the first call is over."""
    acd.log_in("8021")
    since = now()
    callers = ("15800158000", "15000150000")
    phone = await answer_as_agent("8021", talk_for=talk_for("general") + 4.0, max_duration=90)
    first = _call(callers[0], [ZERO])
    await _until("8021 on the first call", lambda: acd.states()["8021"] == "on-call")
    second = _call(callers[1], [ZERO])
    await _until("the second caller waiting", lambda: len(_waiting_ids(acd)) == 1)
    assert (await phone.result(timeout=60)).answered
    phone = await answer_as_agent("8021", talk_for=talk_for("general"), max_duration=90)
    async with phone:
        _check(await first)
        _check(await second)
        assert (await phone.result(timeout=60)).answered

    one, two = (engine.call_from(c, since=since) for c in callers)
    why = explain(one, observer) + "\n" + explain(two, observer)
    assert_put_through(observer, one, "8021")
    assert_put_through(observer, two, "8021")
    complete = _event(acd, one["call_id"], "complete")["at"]
    entered = _event(acd, two["call_id"], "enter")["at"]
    offered = _event(acd, two["call_id"], "offer")["at"]
    assert entered < complete, why  # the second caller was waiting when the first ended
    assert _seconds(offered, complete) >= 15 - 0.5, (complete, offered)
    log = [(e["event"], e["to_state"]) for e in acd.state_log("8021", since=since)]
    assert log[log.index(("call_end", "wrap-up")) :][:3] == [
        ("call_end", "wrap-up"),
        ("wrap_up_expired", "available"),
        ("reserve", "reserved"),
    ], log
    # Waiting, the second caller heard where it stood.
    assert "acd-position-before" in heard(observer, two["channel"]), why


# --- f. whisper -----------------------------------------------------------------------------


async def test_the_agent_hears_the_whisper_before_the_caller_is_connected(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    acd.log_in("8001")
    caller = "13800138000"  # VIP: the vip queue
    record = await _agent_call(engine, caller, "8001", "vip")
    why = explain(record, observer)
    channel = record["channel"]
    (agent_channel,) = agent_channels(observer, channel)
    assert agent_channel.startswith("PJSIP/8001-"), agent_channel
    # The whisper was streamed on the agent's channel, by the agent-answer route ...
    assert heard(observer, agent_channel) == ["acd-whisper-vip"], why
    assert any(
        app == "AGI" and data.endswith(f"/agent-answer,{record['call_id']}")
        for app, data in observer.applications(agent_channel)
    ), observer.applications(agent_channel)
    # ... and not to the caller, who was connected once it was over.
    assert heard(observer, channel) == ["cm-welcome-vip", "cm-connecting-agent"], why
    (whisper,) = timeline(observer, agent_channel)
    assert whisper.end - whisper.start >= prompt_seconds("acd-whisper-vip") - 0.5
    bridged = observer.events("BridgeEnter", Channel=channel)
    assert bridged, why
    assert bridged[0].received >= whisper.end, (bridged[0], whisper)
    answer = _event(acd, record["call_id"], "answer")
    assert answer["agent_id"] == "8001"


# --- g. survey after the agent --------------------------------------------------------------


async def test_10000_caller_answers_the_survey_after_the_agent(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    acd.log_in("8037")  # billing:4
    caller, since = "13300133031", now()
    talk = talk_for("billing")
    # The survey starts once the agent hangs up: after ct-connecting-agent, the ring
    # (0.5 s), the whisper and the talk. The key comes well inside the 9 s question.
    survey_at = 1.0 + KEY + seconds_of("ct-connecting-agent") + 0.5 + talk
    keys = [(1.0, "2"), (survey_at + 4.0, "1")]
    async with await answer_as_agent("8037", talk_for=talk, max_duration=60) as phone:
        result = await place_call(caller, "10000", keys=keys, max_duration=60)
        agent_result = await phone.result(timeout=60)
    _check(result)
    assert agent_result.answered and agent_result.caller == caller, agent_result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, record["channel"]) == [
        "ct-welcome",
        "ct-connecting-agent",
        "ss-survey",
        "ss-survey-thanks",
        "ss-goodbye",
    ], why
    assert_put_through(observer, record, "8037", agi_port=engine.agi_port)
    assert _acd_steps(record) == ["enter billing priority=0", "offer 8037", "talked 8037"], why
    assert steps(record, "survey") == ["satisfied"], why
    assert (record["keys"], record["outcome"], record["hangup_side"]) == ("21", "agent", "engine")
    nodes = steps(record, "node")
    assert nodes[-3:] == ["ct-charges (queue)", "ct-survey (survey)", "ct-goodbye (hangup)"], why


# --- h. recording ---------------------------------------------------------------------------


async def test_a_complaints_call_is_recorded(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    """The complaints queue records: MixMonitor of the bridged talk to acd/<call id>.wav."""
    acd.log_in("8041")  # complaints:4
    caller, since = "13300133032", now()
    talk = talk_for("complaints") + 1.0
    # A late key keeps the caller's RTP flowing through the talk (and answers the survey).
    survey_at = 1.0 + KEY + seconds_of("ct-connecting-agent") + 0.5 + talk
    keys = [(1.0, "3"), (survey_at + 4.0, "3")]
    async with await answer_as_agent("8041", talk_for=talk, max_duration=60) as phone:
        result = await place_call(caller, "10000", keys=keys, max_duration=60)
        agent_result = await phone.result(timeout=60)
    _check(result)
    assert agent_result.answered, agent_result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    name = f"acd/{record['call_id']}.wav"
    assert _acd_steps(record)[:2] == ["enter complaints priority=3", f"recording {name}"], why
    assert_put_through(observer, record, "8041")
    commands = observer.agi_commands(record["channel"])
    assert f'EXEC "MixMonitor" "{name},b"' in commands, why
    assert steps(record, "survey") == ["dissatisfied"], why
    path = PROJECT_ROOT / MONITOR / name
    size = await _until(f"{path} written", lambda: path.exists() and path.stat().st_size)
    assert size > WAV_HEADER, (path, size)  # some of the talk, not just a header
