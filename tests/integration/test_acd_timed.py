"""The ACD's timed behaviour through the real Asterisk: escalation, the maximum wait's
callback and overflow, the reconciler after a killed engine, and two engine instances
sharing one PostgreSQL database.

Each test runs its own engine (the session engine is stopped meanwhile) on an ACD file
derived from config/acd.yaml with short times (``acd_file``): escalation after a few
seconds, the maximum wait after a few more, no position announcements (so what the
caller hears is exactly the menu's and the ACD's prompts), a short wrap-up, callbacks
allowed round the clock. Callers are SIPp UACs; agents are SIPp UASs on their static
contacts (80NN on 5100 + NN); the customer a callback dials is a SIPp UAS on
127.0.0.1:5199 (the test bed's ``pstn`` endpoint). Agents are logged in through the ACD's
service layer (:class:`~testbed.acd.AcdProbe`), which also reads the queue log and
the agents' state log the assertions are made on. Times in the logs are compared with
the configured steps only (never an upper bound on how fast anything ran).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import re
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from acd.agents import STUCK_GRACE
from ground.paths import PROJECT_ROOT
from testbed.acd import AcdProbe
from testbed.engine import EngineProcess
from testbed.observer import AmiObserver
from testbed.postgres import PostgresUnavailable, scratch_database
from testbed.prompt_timing import MARGIN, digit_keys, prompt_seconds
from testbed.sipp import (
    SippResult,
    answer_as_agent,
    answer_as_customer,
    place_call,
)
from tests.integration.conftest import OtherEngine
from tests.integration.hotline import dial_statuses, explain, heard, now, steps

pytestmark = pytest.mark.asterisk

T = TypeVar("T")

ACD_SOURCE = PROJECT_ROOT / "config" / "acd.yaml"
ESCALATE_S = 4.0  # the test configuration's escalation step
MAX_WAIT_S = 6.0  # the test configuration's maximum wait
WRAP_UP_S = 2.0
RECONCILE_S = 2.0  # the engines' reconcile interval
CALLBACK_RETRY_S = 3.0

KEY = 0.3  # a key is sent for 0.2 s; the engine has it about this long after it started
FIRST = 1.0  # the 0 key: early in the welcome, which it stops, and the menu's agent key
# The call enters its queue once "connecting you to an agent" is over (it takes no keys).
ENTERED = FIRST + KEY + prompt_seconds("cm-connecting-agent")
# The callback offer starts at the maximum wait (the hold loop looks every 0.25 s) and
# takes keys while it plays and for 6 s after: key well inside that window.
OFFER_KEY = ENTERED + MAX_WAIT_S + 3.0
TALK = 1.5  # seconds an agent talks once the whisper (on the agent's channel) is over


def talk_for(*whisper: str) -> float:
    """How long an agent's phone stays on the line: the whisper, then a short talk (an
    agent who hung up during the whisper would never reach the caller)."""
    return sum(prompt_seconds(p) for p in whisper) + TALK


def acd_file(tmp_path: Path, queues: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """config/acd.yaml with short times and the given queues' settings replaced."""
    raw: dict[str, Any] = yaml.safe_load(ACD_SOURCE.read_text(encoding="utf-8"))
    raw["defaults"]["wrap_up_s"] = WRAP_UP_S
    raw["defaults"]["announce_every_s"] = 0  # no position announcements
    raw["callbacks"] = {
        "window_from": "00:00",
        "window_to": "24:00",
        "ring_timeout_s": 20,
        "retry_after_s": CALLBACK_RETRY_S,
        "max_attempts": 3,
    }
    for name, changes in (queues or {}).items():
        raw["queues"][name].update(changes)
    path = tmp_path / "acd.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def acd_env(config: Path) -> dict[str, str]:
    return {
        "IVR_ENGINE_ACD__CONFIG": str(config),
        "IVR_ENGINE_ACD__RECONCILE_INTERVAL": str(RECONCILE_S),
    }


async def off_loop(work: Callable[[], T]) -> T:
    """A blocking probe or observer call, in a worker thread (SIPp runs on the loop)."""
    return await asyncio.to_thread(work)


async def eventually(
    check: Callable[[], T | None], timeout: float, what: str, every: float = 0.3
) -> T:
    """Poll ``check`` (in a thread) until it returns something other than None/False."""
    deadline = time.monotonic() + timeout
    while True:
        found = await off_loop(check)
        if found is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(every)


def event_names(log: list[dict[str, Any]]) -> list[str]:
    return [str(line["event"]) for line in log]


def first(log: list[dict[str, Any]], event: str) -> dict[str, Any]:
    return next(line for line in log if line["event"] == event)


def seconds_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds()


def shown(log: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {line['at']:%H:%M:%S.%f} {line['queue']:<8} {line['event']:<16} "
        f"{line['agent_id'] or '-':<5} {line['detail']}"
        for line in log
    )


def request_user(message_line: str) -> str | None:
    """``INVITE sip:13900139000@127.0.0.1:5199 SIP/2.0`` -> ``13900139000``."""
    match = re.match(r"^INVITE sips?:([^@;> ]+)@", message_line)
    return match.group(1) if match else None


def header_user(value: str) -> str | None:
    match = re.search(r"sips?:([^@;>]+)@", value)
    return match.group(1) if match else None


def agent_channels(observer: AmiObserver, agent: str, *, since: int = 0) -> list[str]:
    """The agent's channels Asterisk created (``PJSIP/8009-0000001f``), in order."""
    return list(
        dict.fromkeys(
            str(e["Channel"])
            for e in observer.events("Newchannel", since=since)
            if str(e.get("Channel") or "").startswith(f"PJSIP/{agent}-")
        )
    )


_EXEC_DIAL = re.compile(r'^EXEC "?Dial"? "?([^"]*)"?')


def exec_dials(observer: AmiObserver, channel: str) -> list[str]:
    """The data of every Dial the engine ran on the channel (AGI ``EXEC Dial``), e.g.
    ``PJSIP/8009,15,gmU(acd-agent^<call id>^127.0.0.1^4573)``."""
    found = (_EXEC_DIAL.match(c) for c in observer.agi_commands(channel))
    return [m.group(1) for m in found if m]


def assert_put_through(observer: AmiObserver, record: dict[str, Any], agent: str) -> None:
    """The caller's channel dialled ``agent`` (once, by the ACD) and the agent answered."""
    channel = str(record["channel"])
    why = explain(record, observer)
    apps = exec_dials(observer, channel)
    assert len(apps) == 1 and apps[0].startswith(f"PJSIP/{agent},"), why
    assert f"acd-agent^{record['call_id']}^" in apps[0], why
    statuses = [(d.split("-")[0], s) for d, s in dial_statuses(observer, channel)]
    assert statuses == [(f"PJSIP/{agent}", "ANSWER")], why
    acd = steps(record, "acd")
    assert f"offer {agent}" in acd and f"talked {agent}" in acd, why


# --- a. escalation -----------------------------------------------------------------------


async def _vip_put_through(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe, agent: str, whisper: str
) -> dict[str, Any]:
    """With only ``agent`` logged in, the VIP 13800138000 presses 0 and waits; ``agent``
    answers, hears ``whisper`` and talks. The journal record, once the caller is checked to
    have heard the welcome and "connecting you", and the call to have reached ``agent``."""
    caller = "13800138000"
    acd.reset()
    acd.log_in(agent)
    since = now()
    async with await answer_as_agent(agent, talk_for=talk_for(whisper), max_duration=90) as phone:
        result = await place_call(caller, "10086", keys=[(FIRST, "0")], max_duration=90)
        agent_result = await phone.result(timeout=60)
    assert result.successful and result.answered and result.far_hangup, result.describe()
    assert agent_result.successful and agent_result.caller == caller, agent_result.describe()
    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, str(record["channel"])) == ["cm-welcome-vip", "cm-connecting-agent"], why
    assert record["outcome"] == "agent", why
    assert_put_through(observer, record, agent)
    return record


async def test_vip_caller_is_offered_to_a_senior_gotone_seat_after_the_escalation_step(
    other_engine: OtherEngine, observer: AmiObserver, tmp_path: Path
) -> None:
    config = acd_file(
        tmp_path,
        {
            "vip": {
                "escalation": [{"after": ESCALATE_S, "requirements": {"gotone": 4}}],
                "max_wait": {"after": 120, "action": "overflow", "queue": "general"},
            }
        },
    )
    agent = "8009"  # for the VIP: a senior GoTone seat without the vip skill
    with other_engine(acd_env(config)) as engine:
        acd = AcdProbe(engine)
        record = await _vip_put_through(engine, observer, acd, agent, "acd-whisper-vip")

        log = await off_loop(lambda: acd.queue_log(str(record["call_id"])))
        assert event_names(log) == ["enter", "offer", "answer", "complete"], shown(log)
        assert {line["queue"] for line in log} == {"vip"}, shown(log)
        offer = first(log, "offer")
        assert offer["agent_id"] == agent, shown(log)
        waited = seconds_between(first(log, "enter")["at"], offer["at"])
        assert waited >= ESCALATE_S, f"offered after {waited:.2f} s:\n{shown(log)}"
        assert await off_loop(acd.waiting) == []


# --- b. callback -------------------------------------------------------------------------

ANOTHER_NUMBER = "02088886666"
AFTER_KEY_2 = OFFER_KEY + KEY + prompt_seconds("acd-callback-enter-number") + MARGIN


@pytest.mark.parametrize(
    ("offer_keys", "number", "prompts"),
    [
        pytest.param([(OFFER_KEY, "1")], None, [], id="this-number"),
        pytest.param(
            [(OFFER_KEY, "2"), *digit_keys(AFTER_KEY_2, f"{ANOTHER_NUMBER}#")],
            ANOTHER_NUMBER,
            ["acd-callback-enter-number"],
            id="another-number",
        ),
    ],
)
async def test_caller_takes_the_callback_at_the_maximum_wait_and_is_called_back(
    other_engine: OtherEngine,
    observer: AmiObserver,
    tmp_path: Path,
    offer_keys: list[tuple[float, str]],
    number: str | None,
    prompts: list[str],
) -> None:
    config = acd_file(
        tmp_path,
        {"gotone": {"escalation": [], "max_wait": {"after": MAX_WAIT_S, "action": "callback"}}},
    )
    caller, agent = "13900139000", "8009"  # an ordinary GoTone subscriber: the gotone queue
    number = number or caller
    with other_engine(acd_env(config)) as engine:
        acd = AcdProbe(engine)
        acd.reset()
        since = now()
        result = await place_call(
            caller, "10086", keys=[(FIRST, "0"), *offer_keys], max_duration=90
        )
        assert result.successful and result.answered and result.far_hangup, result.describe()

        record = engine.call_from(caller, since=since)
        why = explain(record, observer)
        assert heard(observer, str(record["channel"])) == [
            "cm-welcome-gotone",
            "cm-connecting-agent",
            "acd-callback-offer",
            *prompts,
            "acd-callback-confirmed",
        ], why
        assert (record["outcome"], record["hangup_side"]) == ("callback", "engine"), why
        assert f"callback to {number}" in steps(record, "acd"), why
        assert exec_dials(observer, str(record["channel"])) == [], why
        call_id = str(record["call_id"])

        # The row lives on as a callback owed to the number, in the same queue.
        rows = await off_loop(acd.waiting)
        assert [(r["call_id"], r["kind"], r["callback_number"], r["queue"]) for r in rows] == [
            (call_id, "callback", number, "gotone")
        ], rows
        log = await off_loop(lambda: acd.queue_log(call_id))
        assert event_names(log) == ["enter", "callback-offered"], shown(log)
        offered = first(log, "callback-offered")
        assert offered["detail"] == f"to {number}", shown(log)
        waited = seconds_between(first(log, "enter")["at"], offered["at"])
        assert waited >= MAX_WAIT_S, shown(log)

        # An agent logs in: the ACD rings the agent, then dials the customer.
        mark = observer.mark()
        async with (
            await answer_as_customer(number, talk_for=2.0, max_duration=90) as customer,
            await answer_as_agent(agent, max_duration=90) as phone,
        ):
            await off_loop(lambda: acd.log_in(agent))
            customer_result = await customer.result(timeout=90)
            agent_result = await phone.result(timeout=60)
        # The agent was rung once (one Originate), not again once on the callback.
        channels = agent_channels(observer, agent, since=mark)
        assert len(channels) == 1, (
            f"agent {agent} rung {len(channels)} times for one callback: {channels}\n"
            + agent_result.describe()
        )
        assert customer_result.successful and customer_result.answered, customer_result.describe()
        invite = next(m for m in customer_result.messages if m.first_line.startswith("INVITE"))
        assert request_user(invite.first_line) == number, customer_result.describe()
        assert header_user(invite.headers.get("to", "")) == number, customer_result.describe()
        # The agent's phone rang with the customer's number; Asterisk hung it up when
        # the customer did.
        assert agent_result.successful and agent_result.far_hangup, agent_result.describe()
        assert agent_result.caller == number, agent_result.describe()

        assert heard(observer, channels[0]) == ["acd-whisper-callback", "acd-whisper-gotone"]
        commands = observer.agi_commands(channels[0])
        assert [d.split(",")[0] for d in exec_dials(observer, channels[0])] == [
            f"PJSIP/{number}@pstn"
        ], commands

        log = await eventually(
            lambda: (
                found if "callback-made" in event_names(found := acd.queue_log(call_id)) else None
            ),
            15,
            "callback-made in the queue log",
        )
        assert event_names(log) == [
            "enter",
            "callback-offered",
            "offer",
            "answer",
            "callback-made",
        ], shown(log)
        assert first(log, "offer")["agent_id"] == agent, shown(log)
        made = first(log, "callback-made")
        assert made["agent_id"] == agent, shown(log)
        assert made["detail"] == f"to {number} attempt 1: answered", shown(log)
        assert await off_loop(acd.waiting) == []
        changes = [
            (line["from_state"], line["to_state"])
            for line in await off_loop(lambda: acd.state_log(agent))
        ]
        assert changes[:4] == [
            ("logged-out", "available"),
            ("available", "reserved"),
            ("reserved", "on-call"),
            ("on-call", "wrap-up"),
        ], changes


# --- c. overflow -------------------------------------------------------------------------


async def test_vip_caller_overflows_to_the_shared_pool_at_the_maximum_wait(
    other_engine: OtherEngine, observer: AmiObserver, tmp_path: Path
) -> None:
    config = acd_file(
        tmp_path,
        {
            "vip": {
                "escalation": [],
                "max_wait": {"after": MAX_WAIT_S, "action": "overflow", "queue": "general"},
            },
            "general": {"escalation": [], "max_wait": {"after": 120, "action": "callback"}},
        },
    )
    agent = "8021"  # for the VIP: a shared-pool seat (general only)
    with other_engine(acd_env(config)) as engine:
        acd = AcdProbe(engine)
        record = await _vip_put_through(engine, observer, acd, agent, "acd-whisper-general")
        assert "overflow to general" in steps(record, "acd"), explain(record, observer)

        log = await off_loop(lambda: acd.queue_log(str(record["call_id"])))
        assert event_names(log) == ["enter", "overflow", "offer", "answer", "complete"], shown(log)
        assert [line["queue"] for line in log] == ["vip", "vip", "general", "general", "general"]
        overflow = first(log, "overflow")
        assert overflow["detail"] == "to general", shown(log)
        assert seconds_between(first(log, "enter")["at"], overflow["at"]) >= MAX_WAIT_S
        assert first(log, "offer")["agent_id"] == agent, shown(log)
        assert first(log, "offer")["at"] >= overflow["at"], shown(log)


# --- d. the reconciler after the engine was killed mid-call ------------------------------


async def test_agent_of_a_call_whose_engine_was_killed_is_freed_by_the_reconciler(
    other_engine: OtherEngine, observer: AmiObserver, tmp_path: Path
) -> None:
    config = acd_file(tmp_path)
    caller, agent = "15000150000", "8021"  # M-Zone: the shared pool
    with other_engine(acd_env(config)) as engine:
        acd = AcdProbe(engine)
        acd.reset()
        acd.log_in(agent)
        mark = observer.mark()
        phone = await answer_as_agent(agent, max_duration=120)  # until Asterisk hangs up
        calling = asyncio.ensure_future(
            place_call(caller, "10086", keys=[(FIRST, "0")], hangup_after=90, max_duration=90)
        )
        try:
            # Talking: the agent's channel is bridged with the caller's (whisper over).
            bridged = await observer.wait_for_async(
                lambda e: (
                    e.name == "BridgeEnter"
                    and str(e.get("Channel") or "").startswith(f"PJSIP/{agent}-")
                ),
                60,
                since=mark,
                description=f"agent {agent} bridged",
            )
            agent_channel = str(bridged["Channel"])
            assert (await off_loop(acd.states))[agent] == "on-call"
            call_id = str((await off_loop(acd.waiting))[0]["call_id"])

            killed_at = now()
            assert engine.kill() == -signal.SIGKILL
            engine.start()  # the same database and instance name, no session of the call
            # The agent puts the phone down: Asterisk hangs up the agent's leg.
            await off_loop(lambda: observer.action({"Action": "Hangup", "Channel": agent_channel}))
            await observer.wait_for_event_async("Hangup", 15, Channel=agent_channel)
            agent_result = await phone.result(timeout=30)
            assert agent_result.answered and agent_result.far_hangup, agent_result.describe()

            state = await eventually(
                lambda: s if (s := acd.states()[agent]) in ("wrap-up", "available") else None,
                RECONCILE_S + STUCK_GRACE + 20,
                f"agent {agent} out of on-call",
            )
            log = await eventually(
                lambda: (
                    found
                    if (found := acd.queue_log(call_id))[-1]["event"] in ("abandon", "complete")
                    else None
                ),
                RECONCILE_S + STUCK_GRACE + 20,
                "the call closed in the queue log",
            )
            assert await off_loop(acd.waiting) == [], "the dead session's row is still there"
            changes = [
                (line["from_state"], line["to_state"], line["event"])
                for line in await off_loop(lambda: acd.state_log(agent, since=killed_at))
            ]
            # call_end, as if the hang-up had been heard: the queue's wrap-up follows (the
            # row of the talk is kept while the agent talks, so its queue is known).
            assert changes[:1] == [("on-call", "wrap-up", "call_end")], (state, changes)
            # enter, offer, answer, then the talk closed as complete, not abandoned.
            assert event_names(log) == ["enter", "offer", "answer", "complete"], shown(log)
            assert str(log[-1]["detail"]).startswith("reconciled:"), shown(log)
        finally:
            if not calling.done():
                for channel in observer.channels_of_caller(caller, since=mark):
                    with contextlib.suppress(Exception):
                        await off_loop(
                            functools.partial(
                                observer.action, {"Action": "Hangup", "Channel": channel}
                            )
                        )
            caller_result = await asyncio.wait_for(calling, 60)
            await phone.stop()
        # The caller's FastAGI session died with the engine: once the agent's leg is gone,
        # what happens to the caller is the dialplan's business.
        assert caller_result.answered, caller_result.describe()


# --- e. two instances on one PostgreSQL database -----------------------------------------

INSTANCE_B_PORT = 4574


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A scratch PostgreSQL database (its URL); skips when the server is away (fails on CI)."""
    try:
        database = scratch_database("ivr_acd_instances")
        url = database.__enter__()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (CI is set: the PostgreSQL test must run)")
        pytest.skip(str(exc))
    try:
        yield url
    finally:
        database.__exit__(None, None, None)


@contextlib.contextmanager
def second_instance_port(observer: AmiObserver, port: int) -> Iterator[None]:
    """Calls from numbers ending in an odd digit go to FastAGI ``port`` (the dialplan's
    global IVR_AGI_PORT_B) for the block; unset again after it."""
    observer.action({"Action": "Setvar", "Variable": "IVR_AGI_PORT_B", "Value": str(port)})
    try:
        yield
    finally:
        observer.action({"Action": "Setvar", "Variable": "IVR_AGI_PORT_B", "Value": ""})


async def serve_as(agent: str, until: asyncio.Event, talk: float) -> list[SippResult]:
    """Agent ``agent``'s phone, answering one call after the other until ``until`` is set
    (a SIPp UAS takes one call: a new one listens as soon as the last call is over, well
    inside the agent's wrap-up)."""
    results: list[SippResult] = []
    while not until.is_set():
        handle = await answer_as_agent(agent, talk_for=talk, max_duration=150)
        async with handle:
            done = asyncio.ensure_future(handle.result())
            stop = asyncio.ensure_future(until.wait())
            await asyncio.wait({done, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not done.done():  # no call came any more
                done.cancel()
                results.append(await handle.stop())
                break
            results.append(done.result())
    return results


def reservations(acd: AcdProbe, agent: str, since: datetime) -> list[tuple[datetime, datetime]]:
    """The agent's calls as (reserved at, freed at) from its state log; fails if the agent
    was reserved again before the last call freed it."""
    spans: list[tuple[datetime, datetime]] = []
    started: datetime | None = None
    for line in acd.state_log(agent, since=since):
        if line["to_state"] == "reserved":
            assert started is None, f"{agent} reserved while busy: {line}"
            started = line["at"]
        elif line["from_state"] in ("reserved", "on-call") and line["to_state"] != "on-call":
            assert started is not None, f"{agent}: {line} without a reservation"
            spans.append((started, line["at"]))
            started = None
    assert started is None, f"{agent} still reserved or on a call"
    return spans


async def test_two_instances_on_one_postgres_database_share_the_agents(
    engine: EngineProcess, observer: AmiObserver, tmp_path: Path
) -> None:
    config = acd_file(
        tmp_path, {"general": {"escalation": [], "max_wait": {"after": 300, "action": "callback"}}}
    )
    agents = ["8021", "8022", "8023", "8024"]
    # Not subscribers ("other network"): 0 reaches the shared pool. An odd last digit
    # goes to instance B, an even one to A.
    callers = [f"1310000{n:04d}" for n in range(1, 9)]
    talk = talk_for("acd-whisper-general")
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres_database())
        engine.stop()  # FastAGI 4573 is instance A's
        stack.callback(engine.start)
        a = EngineProcess(tmp_path / "a", acd_env(config), database_url=url)
        b = EngineProcess(
            tmp_path / "b", acd_env(config), database_url=url, agi_port=INSTANCE_B_PORT
        )
        for process in (a, b):  # one after the other: each migrates and loads the demo data
            stack.callback(process.stop)
            process.start()
        acd = AcdProbe(a)
        acd.reset()
        since = now()
        mark = observer.mark()
        stack.enter_context(second_instance_port(observer, INSTANCE_B_PORT))
        stop = asyncio.Event()
        phones = [asyncio.ensure_future(serve_as(agent, stop, talk)) for agent in agents]
        try:
            await off_loop(lambda: acd.log_in(*agents))
            results = await asyncio.gather(
                *(
                    place_call(caller, "10086", keys=[(FIRST, "0")], max_duration=150)
                    for caller in callers
                )
            )
        finally:
            stop.set()
            answered = [r for rs in await asyncio.gather(*phones) for r in rs if r.answered]
        for result in results:
            assert result.successful and result.answered and result.far_hangup, result.describe()

        records = {c: a.call_from(c, since=since, timeout=20) for c in callers}
        talked: dict[str, str] = {}
        for caller, record in records.items():
            why = explain(record, observer)
            assert record["outcome"] == "agent", why
            agents_talked = [s.split()[1] for s in steps(record, "acd") if s.startswith("talked")]
            assert len(agents_talked) == 1, why
            talked[caller] = agents_talked[0]
            # Asterisk's own account of which instance held the caller: the FastAGI port
            # of the hotline session, and the one the agent's leg reported its answer to.
            port = INSTANCE_B_PORT if int(caller[-1]) % 2 else a.agi_port
            apps = observer.applications(str(record["channel"]), since=mark)
            assert ("AGI", f"agi://127.0.0.1:{port}/hotline") in apps, why
            dials = exec_dials(observer, str(record["channel"]))
            assert dials[-1].startswith(f"PJSIP/{talked[caller]},"), dials
            assert dials[-1].endswith(f"^127.0.0.1^{port})"), dials
        # Both instances served calls: FastAGI sessions on each (hotline and agent-answer).
        for process in (a, b):
            health = process.health()
            assert health is not None and health["agi"]["sessions_started"] >= len(callers) // 2

        # Every call was answered by exactly one agent, whose phone got that call.
        assert sorted(r.caller for r in answered) == sorted(callers), [
            r.describe() for r in answered
        ]
        log = await off_loop(lambda: acd.queue_log(since=since))
        for caller, record in records.items():
            lines = [line for line in log if line["call_id"] == record["call_id"]]
            answers = [line["agent_id"] for line in lines if line["event"] == "answer"]
            assert answers == [talked[caller]], shown(lines)
            assert event_names(lines)[-1] == "complete", shown(lines)
        # No agent was offered a call while it had one.
        for agent in agents:
            spans = await off_loop(functools.partial(reservations, acd, agent, since))
            for (_, freed), (reserved, _) in itertools.pairwise(spans):
                assert reserved >= freed, (agent, spans)
            offers = [ln for ln in log if ln["event"] == "offer" and ln["agent_id"] == agent]
            assert len(offers) == len(spans), (agent, shown(offers), spans)
        assert sum(talked[c] == agent for c in callers for agent in agents) == len(callers)
