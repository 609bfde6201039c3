"""A supervisor runs calls from the operations API, through the real Asterisk: an agent
logs in from the API, a SIPp caller reaches it, the supervisor listens in (ChanSpy rings
the supervisor's SIPp phone), transfers the caller to another agent, and hangs up a call.
Each test checks where the call went (AMI events), what the caller's and agents' phones
saw, the journal, and the audit log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from testbed.acd import AcdProbe
from testbed.api import ApiClient
from testbed.engine import EngineProcess
from testbed.observer import AmiObserver
from testbed.sipp import answer_as_agent, place_call
from tests.integration.acd_calls import assert_put_through
from tests.integration.hotline import now, steps

pytestmark = pytest.mark.asterisk

T = TypeVar("T")
ZERO = (1.0, "0")  # 0 during the 10086 welcome: to the caller's queue
CALLER = "15800158000"  # Easy Own: the general queue (8021, 8022: general 2)
SUPERVISOR_PHONE = "8049"


async def _until(what: str, check: Callable[[], T | None], timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.2)


@pytest.fixture
def api(engine: EngineProcess, acd: AcdProbe) -> ApiClient:
    client = ApiClient(engine)
    client.token("supervisor-wang", "supervisor")
    return client


async def _request(
    api: ApiClient, method: str, path: str, token: str, body: Any = None
) -> tuple[int, Any]:
    return await asyncio.to_thread(api.request, method, path, token, body)


async def _talking_call(api: ApiClient, acd: AcdProbe, agent: str) -> dict[str, Any]:
    """The one call the supervisor sees talking to ``agent``."""

    def find() -> dict[str, Any] | None:
        _, body = api.request("GET", "/calls", api.tokens["supervisor-wang"])
        talking = [c for c in body["calls"] if c["state"] == "answered" and c["agent"] == agent]
        return talking[0] if talking else None

    await asyncio.to_thread(acd.wait_state, agent, "on-call", 40)
    return await _until(f"a call talking to {agent}", find)


async def test_agent_logs_in_by_api_and_supervisor_listens_then_hangs_up(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe, api: ApiClient
) -> None:
    supervisor = api.tokens["supervisor-wang"]
    agent = api.token("agent-8021", "agent", "8021")
    status, body = await _request(api, "POST", "/agents/8021/login", agent)
    assert (status, body["state"]) == (200, "available"), body
    assert acd.states()["8021"] == "available"

    since = now()
    mark = observer.mark()
    async with await answer_as_agent("8021", max_duration=90) as phone:
        caller = asyncio.create_task(place_call(CALLER, "10086", keys=[ZERO], max_duration=90))
        call = await _talking_call(api, acd, "8021")
        status, body = await _request(api, "GET", "/queues", supervisor)
        general = next(q for q in body["queues"] if q["name"] == "general")
        assert general["talking"] == 1 and general["agents"].get("on-call") == 1, general

        async with await answer_as_agent(SUPERVISOR_PHONE, talk_for=3, max_duration=30) as spy:
            status, body = await _request(
                api, "POST", "/agents/8021/listen", supervisor, {"phone": SUPERVISOR_PHONE}
            )
            assert status == 200, body
            started = await observer.wait_for_event_async("ChanSpyStart", 15, since=mark)
            assert started["SpyerChannel"].startswith(f"PJSIP/{SUPERVISOR_PHONE}-"), started
            assert started["SpyeeChannel"].startswith("PJSIP/8021-"), started
            spied = await spy.result(timeout=30)
        assert spied.answered, spied.describe()

        status, body = await _request(api, "POST", f"/calls/{call['call_id']}/hangup", supervisor)
        assert status == 200, body
        result = await caller
        agent_result = await phone.result(timeout=30)
    assert result.answered and result.far_hangup, result.describe()  # Asterisk hung up
    assert agent_result.answered and agent_result.far_hangup, agent_result.describe()

    record = await _until("the journal record", lambda: engine.call_from(CALLER, since=since))
    assert_put_through(observer, record, "8021", agi_port=engine.agi_port)
    assert "supervisor supervisor-wang hung up the call" in steps(record, "acd"), record
    await asyncio.to_thread(acd.wait_state, "8021", "wrap-up", 20)
    assert [e["event"] for e in acd.queue_log(call["call_id"])][-1] == "complete"

    status, body = await _request(api, "GET", "/audit", api.token("ops", "admin"))
    actions = [(e["actor"], e["action"].split("/api/v1")[1], e["status"]) for e in body["entries"]]
    assert actions[:3] == [
        ("supervisor-wang", "/calls/{call_id}/hangup", 200),
        ("supervisor-wang", "/agents/{agent_id}/listen", 200),
        ("agent-8021", "/agents/{agent_id}/login", 200),
    ], actions


async def test_supervisor_transfers_a_caller_to_another_agent(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe, api: ApiClient
) -> None:
    supervisor = api.tokens["supervisor-wang"]
    acd.log_in("8021")
    since = now()
    mark = observer.mark()
    async with (
        await answer_as_agent("8021", max_duration=90) as first,
        await answer_as_agent("8022", talk_for=2, max_duration=90) as second,
    ):
        caller = asyncio.create_task(place_call(CALLER, "10086", keys=[ZERO], max_duration=90))
        call = await _talking_call(api, acd, "8021")
        status, body = await _request(
            api, "POST", f"/calls/{call['call_id']}/transfer", supervisor, {"to": "8022"}
        )
        assert status == 200, body
        second_result = await second.result(timeout=30)
        first_result = await first.result(timeout=30)
        result = await caller
    assert second_result.answered and second_result.caller == CALLER, second_result.describe()
    assert first_result.answered and first_result.far_hangup, first_result.describe()
    assert result.answered and result.far_hangup, result.describe()
    record = await _until("the journal record", lambda: engine.call_from(CALLER, since=since))
    acd_steps = steps(record, "acd")
    assert "talked 8021" in acd_steps, record
    assert "supervisor supervisor-wang transferred the call to 8022" in acd_steps, record
    (channel,) = observer.channels_of_caller(CALLER, since=mark)
    dials = [
        (e.get("DestChannel") or "").split("-")[0]
        for e in observer.events("DialBegin", since=mark, Channel=channel)
    ]
    assert dials == ["PJSIP/8021", "PJSIP/8022"], dials
    await asyncio.to_thread(acd.wait_state, "8021", "wrap-up", 20)
    assert acd.states()["8022"] == "logged-out"  # a seat reached by transfer, not the ACD
    status, body = await _request(
        api, "POST", f"/calls/{call['call_id']}/transfer", supervisor, {"to": "8022"}
    )
    assert status == 404, body  # that call is no longer with an agent
