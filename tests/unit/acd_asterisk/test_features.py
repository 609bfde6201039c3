"""The agent-feature route: *11 .. *14 dialled on agents' phones, through the real ACD."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.agents import AgentState, PendingKind
from acd.service.acd import Acd
from ivr_engine.acd_asterisk.features import FeatureCodes
from ivr_engine.agi.server import FastAgiServer
from tests.unit.acd_asterisk.scripted import (
    FakeClock,
    agent_status,
    agi_headers,
    log_in,
    make_config,
    running_acd,
)
from tests.unit.agi.peer import fake_call, make_settings, succeed


@pytest.fixture
def codes(acd: Acd) -> FeatureCodes:
    return FeatureCodes(acd)


async def on_a_call(acd: Acd, clock: FakeClock, agent: str, answered: bool) -> None:
    """``agent`` is reserved for call-1 (its phone rings), and answers if ``answered``."""
    await log_in(acd, clock, agent)
    await acd.enqueue("call-1", "sales")
    assert (await acd.dispatcher.run_pass()).reserved == [("call-1", agent)]
    if answered:
        assert await acd.answered("call-1", agent) is not None


async def test_a_working_day(acd: Acd, codes: FeatureCodes) -> None:
    steps = [
        ("*11", "agent-logged-in", AgentState.AVAILABLE, None),
        ("*13", "agent-paused", AgentState.PAUSED, "break"),
        ("*13*2", "agent-paused", AgentState.PAUSED, "lunch"),
        ("*14", "agent-ready", AgentState.AVAILABLE, None),
        ("*13*3", "agent-paused", AgentState.PAUSED, "training"),
        ("*12", "agent-logged-out", AgentState.LOGGED_OUT, None),
    ]
    for code, prompt, state, reason in steps:
        assert await codes.handle("8001", code) == prompt, code
        status = await agent_status(acd, "8001")
        assert (status.state, status.pause_reason) == (state, reason), code


async def test_log_in_paused_when_the_policy_says_so(tmp_path: Path, clock: FakeClock) -> None:
    config = make_config(policy={"log_in_paused": "training"})
    async with running_acd(tmp_path, config, clock) as acd:
        assert await FeatureCodes(acd).handle("8001", "*11") == "agent-logged-in"
        status = await agent_status(acd, "8001")
        assert (status.state, status.pause_reason) == (AgentState.PAUSED, "training")


async def test_ready_ends_wrap_up_early(acd: Acd, clock: FakeClock, codes: FeatureCodes) -> None:
    await on_a_call(acd, clock, "8001", answered=True)
    await acd.finished(acd.tickets["call-1"], "8001")
    assert (await agent_status(acd, "8001")).state is AgentState.WRAP_UP
    assert await codes.handle("8001", "*14") == "agent-ready"
    assert (await agent_status(acd, "8001")).state is AgentState.AVAILABLE


@pytest.mark.parametrize("answered", [False, True], ids=["ringing", "talking"])
@pytest.mark.parametrize(
    ("code", "kind", "reason"),
    [
        ("*13", PendingKind.PAUSE, "break"),
        ("*13*2", PendingKind.PAUSE, "lunch"),
        ("*12", PendingKind.LOG_OUT, None),
    ],
)
async def test_during_a_call_the_code_applies_after_it(
    acd: Acd,
    clock: FakeClock,
    codes: FeatureCodes,
    answered: bool,
    code: str,
    kind: PendingKind,
    reason: str | None,
) -> None:
    await on_a_call(acd, clock, "8001", answered)
    state = AgentState.ON_CALL if answered else AgentState.RESERVED
    assert await codes.handle("8001", code) == "agent-after-call"
    status = await agent_status(acd, "8001")
    assert (status.state, status.current_call) == (state, "call-1")
    assert status.pending is not None
    assert (status.pending.kind, status.pending.reason) == (kind, reason)


async def test_refused_codes(acd: Acd, clock: FakeClock, codes: FeatureCodes) -> None:
    assert await codes.handle("8001", "*13") == "agent-code-refused"  # not logged in
    assert await codes.handle("8001", "*12") == "agent-code-refused"
    assert await codes.handle("8001", "*14") == "agent-code-refused"
    assert (await agent_status(acd, "8001")).state is AgentState.LOGGED_OUT
    assert await codes.handle("8001", "*11") == "agent-logged-in"
    assert await codes.handle("8001", "*11") == "agent-code-refused"  # already logged in
    assert await codes.handle("8001", "*14") == "agent-code-refused"  # already available
    assert await codes.handle("8001", "*13*2") == "agent-paused"
    assert await codes.handle("8001", "*13*2") == "agent-code-refused"  # already at lunch
    status = await agent_status(acd, "8001")
    assert (status.state, status.pause_reason) == (AgentState.PAUSED, "lunch")


async def test_ready_during_a_call_is_refused(
    acd: Acd, clock: FakeClock, codes: FeatureCodes
) -> None:
    await on_a_call(acd, clock, "8001", answered=True)
    assert await codes.handle("8001", "*14") == "agent-code-refused"
    assert (await agent_status(acd, "8001")).state is AgentState.ON_CALL


@pytest.mark.parametrize("code", ["*13*9", "*13*0", "*13*02", "*11*5", "*15", "11", ""])
async def test_invalid_codes(acd: Acd, codes: FeatureCodes, code: str) -> None:
    assert await codes.handle("8001", code) == "agent-code-invalid"
    assert (await agent_status(acd, "8001")).state is AgentState.LOGGED_OUT


async def test_a_phone_that_is_no_agent(codes: FeatureCodes) -> None:
    assert await codes.handle("9999", "*11") == "agent-unknown"
    assert await codes.handle("alice", "*14") == "agent-unknown"


async def test_ready_in_wrap_up_with_a_pause_pending_says_paused(
    acd: Acd, clock: FakeClock, codes: FeatureCodes
) -> None:
    await on_a_call(acd, clock, "8001", answered=True)
    assert await codes.handle("8001", "*13*2") == "agent-after-call"
    await acd.finished(acd.tickets["call-1"], "8001")
    assert (await agent_status(acd, "8001")).state is AgentState.WRAP_UP
    prompt = await codes.handle("8001", "*14")
    status = await agent_status(acd, "8001")
    assert (status.state, status.pause_reason) == (AgentState.PAUSED, "lunch")
    assert prompt == "agent-paused"  # the agent is at lunch, not ready for calls


async def test_the_agi_route_answers_plays_and_sets_the_result(acd: Acd) -> None:
    server = FastAgiServer(make_settings(), {"agent-feature": FeatureCodes(acd)})
    await server.start()
    try:
        headers = agi_headers("PJSIP/8001-00000031", "*11", agi_network_script="agent-feature")
        commands = await fake_call(server.port, succeed, headers)
    finally:
        await server.stop(grace=0)

    assert commands == [
        "ANSWER",
        'SET VARIABLE "CHANNEL(language)" "zh"',
        'STREAM FILE "hotline/agent-logged-in" "" 0',
        'SET VARIABLE "ACD_FEATURE_RESULT" "agent-logged-in"',
    ]
    assert (await agent_status(acd, "8001")).state is AgentState.AVAILABLE
    assert server.stats.sessions_completed == 1
