"""Agents and supervisors through the API, on a real ACD: the same transitions as the
feature codes, refusals as 404/409/422, and supervision sent to Asterisk as AMI actions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from acd.agents import AgentState
from acd.service.acd import Acd
from tests.db.acd_support import T0, WRAP_UP_S, agent_row
from tests.db.api_support import ApiHarness, api_harness


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[ApiHarness]:
    async with api_harness(db_url) as harness:
        yield harness


async def on_call(api: ApiHarness, agent_id: str = "8001", call_id: str = "c1") -> None:
    """``agent_id`` logs in through the API (unless in already) and is put through to a
    caller."""
    if await state(api.acd, agent_id) is AgentState.LOGGED_OUT:
        assert (await api.call("POST", f"/agents/{agent_id}/login", agent_id))[0] == 200
    await api.acd.enqueue(call_id, "general", caller="13900139000", channel="PJSIP/callers-0001")
    assert (await api.acd.dispatcher.run_pass()).reserved == [(call_id, agent_id)]
    assert await api.acd.answered(call_id, agent_id) is not None


async def state(acd: Acd, agent_id: str) -> AgentState:
    return (await agent_row(acd, agent_id)).status.state


async def test_an_agents_day_log_in_pause_ready_log_out(api: ApiHarness) -> None:
    status, body = await api.call("GET", "/agents/8001", "8001")
    assert (status, body["state"], body["name"]) == (200, "logged-out", "Agent 8001")
    status, body = await api.call("POST", "/agents/8001/login", "8001")
    assert (status, body["state"]) == (200, "available")
    status, body = await api.call("POST", "/agents/8001/pause", "8001", {"reason": "lunch"})
    assert (status, body["state"], body["pause_reason"]) == (200, "paused", "lunch")
    assert await state(api.acd, "8001") is AgentState.PAUSED
    status, body = await api.call("POST", "/agents/8001/ready", "8001")
    assert (status, body["state"], body["pause_reason"]) == (200, "available", None)
    status, body = await api.call("POST", "/agents/8001/logout", "8001")
    assert (status, body["state"]) == (200, "logged-out")


async def test_refusals_say_why(api: ApiHarness) -> None:
    status, body = await api.call("POST", "/agents/8001/ready", "8001")
    assert status == 409
    assert "refused" in body["detail"]
    await api.call("POST", "/agents/8001/login", "8001")
    assert (await api.call("POST", "/agents/8001/login", "8001"))[0] == 409
    status, body = await api.call("POST", "/agents/8001/pause", "8001", {"reason": "holiday"})
    assert status == 422  # a well-formed code, but not a configured pause reason
    status, body = await api.call("POST", "/agents/8001/pause", "8001", {"reason": "supervisor"})
    assert status == 422  # only a supervisor sets it
    assert (await api.call("POST", "/agents/8001/wrap-up/finish", "8001"))[0] == 409


async def test_finish_wrap_up_early(api: ApiHarness) -> None:
    await on_call(api)
    ticket = api.acd.tickets["c1"]
    api.clock.advance(30)
    await api.acd.finished(ticket, "8001")
    status, body = await api.call("GET", "/agents/8001", "8001")
    assert body["state"] == "wrap-up"
    assert body["wrap_up_until"].startswith("2025-06-15T15:07:1")  # T0 + 30 s + 5 s wrap-up
    assert WRAP_UP_S == 5.0 and T0 == 1_750_000_000.0
    status, body = await api.call("POST", "/agents/8001/wrap-up/finish", "8001")
    assert (status, body["state"], body["calls_today"]) == (200, "available", 1)


async def test_a_pause_asked_during_a_call_starts_after_it(api: ApiHarness) -> None:
    await on_call(api)
    status, body = await api.call("POST", "/agents/8001/pause", "8001", {"reason": "break"})
    assert (status, body["state"], body["pending"]) == (200, "on-call", "pause")


async def test_unknown_agents_are_404(api: ApiHarness) -> None:
    assert (await api.call("GET", "/agents/9999", "supervisor"))[0] == 404
    assert (await api.call("POST", "/agents/9999/force-logout", "supervisor"))[0] == 404
    assert (await api.call("POST", "/agents/9999/listen", "admin", {"phone": "8049"}))[0] == 404


async def test_supervisor_sees_queues_agents_and_calls(api: ApiHarness) -> None:
    await api.call("POST", "/agents/8001/login", "8001")
    await api.call("POST", "/agents/8002/login", "8002")
    await api.call("POST", "/agents/8002/pause", "8002", {"reason": "training"})
    await api.acd.enqueue("c1", "billing", caller="13900139000")  # no billing agent: waits
    api.clock.advance(42)
    status, body = await api.call("GET", "/queues", "supervisor")
    assert status == 200
    queues = {q["name"]: q for q in body["queues"]}
    assert queues["billing"]["waiting"] == 1
    assert queues["billing"]["longest_wait_s"] == 42.0
    # 8005 has billing 1: only after the escalation step (30 s) does it take billing calls,
    # so it is not one of the agents billing asks for (billing 3), as on the wallboard.
    assert queues["billing"]["agents"] == {}
    assert queues["spill"]["agents"] == {}  # billing 5: nobody
    assert queues["general"]["agents"] == {"available": 1, "paused": 1, "logged-out": 2}
    assert queues["general"]["service_level_target"] == "80 % within 20 s"
    status, body = await api.call("GET", "/calls", "admin")
    assert [(c["call_id"], c["queue"], c["state"], c["waited_s"]) for c in body["calls"]] == [
        ("c1", "billing", "waiting", 42.0)
    ]
    status, body = await api.call("GET", "/agents", "supervisor")
    assert [a["state"] for a in body["agents"]][:2] == ["available", "paused"]


async def test_force_logout_and_force_pause(api: ApiHarness) -> None:
    await api.call("POST", "/agents/8002/login", "8002")
    status, body = await api.call("POST", "/agents/8002/force-pause", "supervisor")  # no body
    assert (status, body["state"], body["pause_reason"]) == (200, "paused", "supervisor")
    assert (await api.call("POST", "/agents/8002/force-logout", "supervisor"))[0] == 200
    assert await state(api.acd, "8002") is AgentState.LOGGED_OUT
    assert (await api.call("POST", "/agents/8002/force-logout", "supervisor"))[0] == 409
    await on_call(api)
    status, body = await api.call("POST", "/agents/8001/force-logout", "admin")
    assert (status, body["state"], body["pending"]) == (200, "on-call", "log-out")


@pytest.mark.parametrize(
    ("mode", "options"), [("listen", "qE"), ("whisper", "qEw"), ("barge", "qEB")]
)
async def test_listen_whisper_barge_ring_the_supervisor_into_chanspy(
    api: ApiHarness, mode: str, options: str
) -> None:
    await api.call("POST", "/agents/8001/login", "8001")
    status, body = await api.call("POST", f"/agents/8001/{mode}", "supervisor", {"phone": "8049"})
    assert status == 409  # not on a call
    assert api.ami.actions == []
    await on_call(api)
    status, body = await api.call("POST", f"/agents/8001/{mode}", "supervisor", {"phone": "8049"})
    assert status == 200, body
    (action,) = api.ami.actions
    assert action["Action"] == "Originate"
    assert action["Channel"] == "PJSIP/8049"
    assert (action["Application"], action["Data"]) == ("ChanSpy", f"PJSIP/8001-,{options}")
    bad = await api.call("POST", f"/agents/8001/{mode}", "supervisor", {"phone": "8049,x"})
    assert bad[0] == 422


async def test_transfer_and_hang_up_a_call(api: ApiHarness) -> None:
    await on_call(api)
    status, body = await api.call("POST", "/calls/c1/transfer", "supervisor", {"to": "8003"})
    assert status == 200, body
    status, body = await api.call("POST", "/calls/c1/hangup", "supervisor")
    assert status == 200, body
    assert api.ami.actions == [
        {
            "Action": "Redirect",
            "Channel": "PJSIP/callers-0001",
            "Context": "transfer",
            "Exten": "8003",
            "Priority": "1",
        },
        {"Action": "Hangup", "Channel": "PJSIP/callers-0001", "Cause": "16"},
    ]
    assert (await api.call("POST", "/calls/nope/hangup", "supervisor"))[0] == 404
    assert (await api.call("POST", "/calls/c1/transfer", "supervisor", {"to": "8003;x"}))[0] == 422


async def test_asterisk_refusing_or_gone_is_409_or_503(api: ApiHarness) -> None:
    await on_call(api)
    api.ami.refuse = "Channel not found"
    status, body = await api.call("POST", "/calls/c1/hangup", "supervisor")
    assert (status, body["detail"]) == (409, "hang-up of PJSIP/callers-0001: Channel not found")

    from ivr_engine.ami import AmiUnavailable

    async def gone(
        action: dict[str, str], timeout: float | None = None, *, first_reply: bool = False
    ) -> object:
        raise AmiUnavailable("AMI link is reconnecting")

    api.ami.action = gone  # type: ignore[method-assign]
    status, body = await api.call("POST", "/agents/8001/listen", "supervisor", {"phone": "8049"})
    assert status == 503
    assert "Asterisk is unavailable" in body["detail"]


async def test_a_supervisor_raises_the_calls_waiting_in_a_queue(api: ApiHarness) -> None:
    await api.acd.enqueue("c1", "billing")
    await api.acd.enqueue("c2", "billing")
    await api.acd.enqueue("c3", "general")
    status, body = await api.call("POST", "/queues/billing/priority", "supervisor", {"priority": 7})
    assert (status, body["done"]) == (200, "2 calls waiting in billing now have priority 7")
    _, body = await api.call("GET", "/calls", "supervisor")
    assert {c["call_id"]: c["priority"] for c in body["calls"]} == {"c1": 7, "c2": 7, "c3": 0}
    assert (await api.call("POST", "/queues/nope/priority", "admin", {"priority": 1}))[0] == 404
    assert (await api.call("POST", "/queues/billing/priority", "admin", {"priority": -1}))[0] == 422
    assert (await api.call("POST", "/queues/billing/priority", "8001", {"priority": 1}))[0] == 403
