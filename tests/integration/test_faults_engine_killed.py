"""The engine killed (SIGKILL) mid-call, then started again on the same database.

A second engine takes the hotline (the session engine is stopped meanwhile, see the
``other_engine`` fixture): one caller talks to agent 8021, one waits in the queue for an
agent (8021 is busy), one walks the main menu. The engine is killed: its FastAGI
connections just close, which Asterisk takes for a normal end (AGISTATUS=SUCCESS), so the
dialplan's ``IVR_RESULT=running`` is what sends the callers to the fallback: the apology,
then a Dial of the fallback destination (8001, a SIPp phone here). The talk with the
agent goes on without the engine. The engine is started again at once: it closes the
journal records the killed run left open (``engine-crashed``), and its reconciler frees
the agent once the agent hangs up and closes the dead run's waiting calls.
"""

from __future__ import annotations

import asyncio
import functools
import signal
from datetime import datetime
from typing import Any

import pytest

from acd.agents import STUCK_GRACE
from testbed.acd import AcdProbe
from testbed.observer import AmiObserver
from testbed.sipp import answer_as_agent
from tests.integration.acd_calls import talk_for
from tests.integration.conftest import OtherEngine
from tests.integration.faults import (
    BUSY_AGENT_STATES,
    asks_for_agent,
    eventually,
    fallback_taken,
    in_menus,
    live_hotline_calls,
    off_loop,
    one_finished_record_each,
)
from tests.integration.hotline import now

pytestmark = pytest.mark.asterisk

RECONCILE_S = 2.0
AGENT = "8021"
TALKING, WAITING, IN_MENU = "18600200000", "18600200100", "18600200200"
AGENT_TALK = talk_for("general") + 12.0  # the agent hangs up this long after answering


def _queue_events(acd: AcdProbe, call_id: str) -> list[str]:
    return [e["event"] for e in acd.queue_log(call_id)]


async def test_engine_killed_mid_call_callers_take_the_fallback_and_nothing_stays_busy(
    other_engine: OtherEngine, observer: AmiObserver
) -> None:
    env = {"IVR_ENGINE_ACD__RECONCILE_INTERVAL": str(RECONCILE_S)}
    with other_engine(env) as engine:
        acd = AcdProbe(engine)
        acd.reset()
        acd.log_in(AGENT)
        since, mark = now(), observer.mark()
        agent_phone = await answer_as_agent(AGENT, talk_for=AGENT_TALK, max_duration=120)
        fallback_phone = await answer_as_agent("8001", talk_for=2.0, max_duration=120)
        calls: dict[str, asyncio.Task[Any]] = {}
        try:
            calls[TALKING] = asks_for_agent(TALKING)
            await eventually(lambda: acd.states()[AGENT] == "on-call", 60, f"{AGENT} talking")
            calls[WAITING] = asks_for_agent(WAITING)
            calls[IN_MENU] = in_menus(IN_MENU)
            await eventually(
                lambda: (
                    [r["caller"] for r in acd.waiting() if r["state"] == "waiting"] == [WAITING]
                ),
                60,
                "a caller waiting for an agent",
            )
            await eventually(lambda: live_hotline_calls(engine) == 3, 60, "three calls in")
            rows = {r["caller"]: r["call_id"] for r in await off_loop(acd.waiting)}

            killed_at = now()
            assert engine.kill() == -signal.SIGKILL
            engine.start()  # the same database and instance: no session of those calls

            # Every caller is still on the line until the fallback's Dial is over: none is
            # left in dead air (each is hung up by Asterisk, never by the test).
            results = dict(zip(calls, await asyncio.gather(*calls.values()), strict=True))
            agent_result = await agent_phone.result(timeout=60)
            fallback_result = await fallback_phone.result(timeout=60)
        finally:
            for task in calls.values():
                task.cancel()
            await agent_phone.stop()
            await fallback_phone.stop()

        for result in results.values():
            assert result.answered and result.far_hangup, result.describe()
        # The talk went on after the engine died, until the agent hung up.
        assert agent_result.answered and agent_result.caller == TALKING, agent_result.describe()
        assert agent_result.we_hung_up, agent_result.describe()
        # The fallback destination answered one of them (its phone takes one call).
        assert fallback_result.answered, fallback_result.describe()
        assert fallback_result.caller in calls, fallback_result.describe()

        # What Asterisk says each caller heard: the apology, then the fallback's Dial, sent
        # there by IVR_RESULT still "running" (the engine never let go of the call).
        for caller in calls:
            (channel,) = observer.channels_of_caller(caller, since=mark)
            await off_loop(functools.partial(observer.hangup, channel, 30, since=mark))
            assert not fallback_taken(observer, channel), fallback_taken(observer, channel)
            reasons = [d for a, d in observer.applications(channel, since=mark) if a == "NoOp"]
            assert any("IVR_RESULT=running" in d for d in reasons), reasons

        # The restarted engine closed the killed run's records, once each, honestly.
        records = await eventually(
            lambda: one_finished_record_each(engine.recent_calls(100), calls, since),
            20,
            "a finished record of each call",
        )
        for record in records.values():
            assert (record["outcome"], record["hangup_side"]) == ("engine-crashed", "unknown")
            ended = datetime.fromisoformat(record["ended_at"])
            assert since <= ended <= killed_at, record  # the last moment known alive
            assert record["steps"][-1]["kind"] == "closed", record

        # No agent reserved or on a call; the dead run's waiting calls are closed.
        state = await eventually(
            lambda: s if (s := acd.states()[AGENT]) not in BUSY_AGENT_STATES else None,
            RECONCILE_S + STUCK_GRACE + 20,
            f"{AGENT} out of on-call",
        )
        assert state in ("wrap-up", "available"), state
        await eventually(lambda: acd.waiting() == [], RECONCILE_S + STUCK_GRACE + 20, "rows gone")
        assert (await off_loop(lambda: _queue_events(acd, rows[TALKING])))[-1] == "complete"
        assert (await off_loop(lambda: _queue_events(acd, rows[WAITING])))[-1] == "abandon"
        busy = {a: s for a, s in (await off_loop(acd.states)).items() if s in BUSY_AGENT_STATES}
        assert busy == {}, busy
