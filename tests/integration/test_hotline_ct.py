"""China Telecom's demo lines through the real Asterisk: 10000 (agent service,
config/menus/10000.yaml) and 10001 (self-service, config/menus/10001.yaml), and the
transfers between them (the engine sets IVR_TRANSFER, the dialplan's Goto starts the other
number over, and the engine answers it again as a new journalled call). 10000's queues
go through the ACD: the test logs in the agent it expects, and after the agent the caller
is asked the satisfaction survey."""

from __future__ import annotations

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
    money,
    now,
    steps,
    subscriber,
)

pytestmark = pytest.mark.asterisk

KEY = 0.3  # a key is sent for 0.2 s; the engine has it about this long after it started


async def test_10000_complaints_are_queued_to_the_complaints_agents(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    """The caller says nothing in the survey after the agent: no answer, goodbye."""
    acd.log_in("8041")  # complaints:4
    caller, since = "13300133021", now()
    talk = talk_for("complaints")
    async with await answer_as_agent("8041", answer_after=0.5, talk_for=talk) as agent:
        result = await place_call(caller, "10000", keys=[(1.0, "3")], max_duration=60)
        agent_result = await agent.result(timeout=60)
    assert result.successful and result.answered and result.far_hangup, result.describe()
    assert agent_result.answered and agent_result.caller == caller, agent_result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    channel = record["channel"]
    assert heard(observer, channel) == [
        "ct-welcome",
        "ct-connecting-agent",
        "ss-survey",
        "ss-goodbye",
    ], why
    assert (record["keys"], record["outcome"], record["hangup_side"]) == ("3", "agent", "engine")
    assert steps(record, "queue") == ["ct-complaints skills=complaints:2 priority=3"], why
    assert steps(record, "acd")[0] == "enter complaints priority=3", why
    assert_put_through(observer, record, "8041", agi_port=engine.agi_port)
    assert steps(record, "survey") == ["no-answer"], why


async def test_10000_key_9_goes_to_the_10001_self_service_menu(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    caller, since = "13800138000", now()  # a subscriber: 10001 knows them
    hang_up = 1.0 + KEY + seconds_of("ct-to-self-service") + MARGIN + 0.6
    result = await place_call(caller, "10000", keys=[(1.0, "9")], hangup_after=hang_up)
    assert result.successful and result.we_hung_up, result.describe()

    first, second = engine.calls_from(caller, since=since, count=2)
    why = explain(first, observer) + "\n" + explain(second)
    assert first["channel"] == second["channel"], why  # one call, two numbers
    assert heard(observer, first["channel"]) == ["ct-welcome", "ct-to-self-service", "ss-menu"]
    assert (first["dialled"], first["keys"]) == ("10000", "9"), why
    assert (first["outcome"], first["hangup_side"]) == ("transferred:10001", "engine"), why
    assert second["dialled"] == "10001", why
    assert steps(second, "branch") == ["ss-known case 1 -> ss-menu"], why
    assert (second["outcome"], second["hangup_side"]) == ("caller-hangup", "caller"), why
    apps = observer.applications(first["channel"])
    assert ("NoOp", "Transfer to hotline 10001") in apps
    assert ("Goto", "from-callers,10001,1") in apps
    assert dialled_apps(observer, first["channel"]) == []


async def test_10001_bill_then_silence_then_the_survey(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    """A subscriber hears the bill, then says nothing: the menu asks again once, then the
    satisfaction survey (key 1: satisfied), thanks and goodbye; the engine hangs up."""
    caller, since = "15800158000", now()
    total = str(subscriber(caller).bill.total)
    bill = ["ss-your-bill", *money(total)]
    no_input_wait = 5.0  # ss-menu's timeout (the default)
    survey_starts = (
        1.0
        + KEY
        + seconds_of(*bill, "ss-menu")
        + no_input_wait
        + seconds_of("ss-no-input", "ss-menu")
        + no_input_wait
    )
    survey_key = survey_starts + 3.0  # well inside the 9 s question, which takes the key
    result = await place_call(
        caller, "10001", keys=[(1.0, "1"), (survey_key, "1")], max_duration=90
    )
    assert result.successful and result.far_hangup, result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, record["channel"]) == [
        "ss-menu",
        *bill,
        "ss-menu",
        "ss-no-input",
        "ss-menu",
        "ss-survey",
        "ss-survey-thanks",
        "ss-goodbye",
    ], why
    assert steps(record, "query") == [f"bill: month=2026-10, total={total}, paid=True"], why
    assert steps(record, "no-input") == ["ss-menu #1", "ss-menu #2"], why
    assert steps(record, "survey") == ["satisfied"], why
    assert record["keys"] == "11", why
    assert (record["outcome"], record["hangup_side"]) == ("self-service", "engine"), why
    assert not observer.far_end_hung_up(record["channel"])


async def test_10001_unknown_caller_is_transferred_to_10000(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    caller, since = "13300133022", now()
    hang_up = seconds_of("ss-not-subscriber", "ss-to-agent") + MARGIN + 0.6
    result = await place_call(caller, "10001", hangup_after=hang_up)
    assert result.successful and result.we_hung_up, result.describe()

    first, second = engine.calls_from(caller, since=since, count=2)
    why = explain(first, observer) + "\n" + explain(second)
    assert heard(observer, first["channel"]) == ["ss-not-subscriber", "ss-to-agent", "ct-welcome"]
    assert "known=False" in steps(first, "lookup")[0], why
    assert (first["dialled"], first["outcome"]) == ("10001", "transferred:10000"), why
    assert (second["dialled"], second["outcome"]) == ("10000", "caller-hangup"), why
    assert ("Goto", "from-callers,10000,1") in observer.applications(first["channel"])
