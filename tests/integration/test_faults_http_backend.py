"""The subscriber system (an HTTP CRM) slow, then failing, then back.

A second engine takes its subscriber data from a fake CRM (tests/unit/data/fake_crm.py, a
real aiohttp server on a loop of its own in the test process) with a 1 s timeout, no
retries, a circuit breaker that opens after 2 failures and lets a trial through 10 s later.
The callers are real SIPp calls to 10086:

1. the CRM answers: the GoTone VIP is recognised and welcomed as a VIP;
2. the CRM is slow (3 s, beyond the timeout): the caller is not identified, hears the
   apology and is put in the agents' queue (hanging up there, never cut off);
3. the CRM answers 500: the same; that second failure opens the breaker;
4. the next caller is not even sent to the CRM (the breaker is open): the apology at once,
   then the queue;
5. once the breaker half-opens, the VIP's call is the trial: the CRM (recovered) answers,
   the breaker closes and the VIP is welcomed as a VIP again.

The breaker's state is read from the engine's ``/metrics`` (``ivr_backend_circuit_state``).
"""

from __future__ import annotations

import functools
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from testbed.engine import EngineProcess
from testbed.observer import AmiObserver
from testbed.prompt_timing import MARGIN, seconds_of
from testbed.proxy import LoopThread
from testbed.sipp import place_call
from tests.integration.conftest import OtherEngine
from tests.integration.faults import eventually, off_loop
from tests.integration.hotline import explain, heard, now, steps
from tests.unit.data.fake_crm import FakeCrm

pytestmark = pytest.mark.asterisk

VIP = "13800138000"  # the one subscriber the fake CRM knows: a GoTone VIP
OTHERS = ["18600400100", "18600400200"]
TIMEOUT_S, FAILURES, RESET_S = 1.0, 2, 30.0  # RESET_S: longer than two calls in the queue
SLOW_S = 3.0
APOLOGY = ["cm-backend-down", "cm-connecting-agent"]
# Long enough to hear the apology and the agent offer, and to be waiting in the queue.
IN_QUEUE_S = TIMEOUT_S + seconds_of(*APOLOGY) + MARGIN + 2.0
WELCOMED_S = seconds_of("cm-welcome-vip") / 2 + 1.0
_STATE = re.compile(r'^ivr_backend_circuit_state\{state="([a-z-]+)"\} 1(?:\.0)?$', re.M)


@contextmanager
def _crm() -> Iterator[tuple[FakeCrm, LoopThread]]:
    with LoopThread("fake-crm") as loop:
        crm = FakeCrm()
        loop.run(crm.start())
        try:
            yield crm, loop
        finally:
            loop.run(crm.stop())


def _breaker(engine: EngineProcess) -> str:
    url = f"http://127.0.0.1:{engine.http_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    states = _STATE.findall(text)
    assert len(states) == 1, text
    return str(states[0])


async def _call(
    engine: EngineProcess, observer: AmiObserver, caller: str, stay: float
) -> tuple[dict[str, Any], list[str]]:
    """One call that hangs up after ``stay`` s: its journal record and what it heard."""
    since = now()
    result = await place_call(caller, "10086", hangup_after=stay, max_duration=stay + 20)
    # Never cut off: the caller is still on the line (in the menu or the queue) to the end.
    assert result.answered and result.we_hung_up and not result.far_hangup, result.describe()
    record = await off_loop(lambda: engine.call_from(caller, since=since, timeout=15))
    return record, await off_loop(lambda: heard(observer, str(record["channel"])))


async def test_crm_slow_then_failing_opens_the_breaker_callers_get_the_apology_and_an_agent(
    other_engine: OtherEngine, observer: AmiObserver
) -> None:
    with _crm() as (crm, loop):
        env = {
            "IVR_ENGINE_BACKEND__KIND": "http",
            "IVR_ENGINE_BACKEND__URL": crm.base_url,
            "IVR_ENGINE_BACKEND__TIMEOUT": str(TIMEOUT_S),
            "IVR_ENGINE_BACKEND__RETRIES": "0",
            "IVR_ENGINE_BACKEND__BREAKER_FAILURES": str(FAILURES),
            "IVR_ENGINE_BACKEND__BREAKER_RESET": str(RESET_S),
        }
        with other_engine(env) as engine:
            # 1. The CRM answers: a VIP welcome.
            record, prompts = await _call(engine, observer, VIP, WELCOMED_S)
            assert prompts[:1] == ["cm-welcome-vip"], explain(record, observer)
            assert steps(record, "lookup")[0].startswith("known=True brand=gotone vip=True")
            assert await off_loop(lambda: _breaker(engine)) == "closed"

            # 2. Slow, 3. failing: not identified, the apology, then the agents' queue.
            loop.call(lambda: setattr(crm, "delay", SLOW_S))
            record, prompts = await _call(engine, observer, VIP, IN_QUEUE_S)
            _apologised(record, prompts, observer, "subscriber system timeout")
            assert await off_loop(lambda: _breaker(engine)) == "closed"  # one failure so far
            loop.call(functools.partial(_fail_next, crm, 500))
            record, prompts = await _call(engine, observer, OTHERS[0], IN_QUEUE_S)
            _apologised(record, prompts, observer, "HTTP 500")
            assert await off_loop(lambda: _breaker(engine)) == "open"

            # 4. Open: the next caller is not sent to the CRM at all.
            hits = len(await off_loop(lambda: loop.call(lambda: list(crm.hits))))
            record, prompts = await _call(engine, observer, OTHERS[1], IN_QUEUE_S)
            _apologised(record, prompts, observer, "circuit open")
            assert len(await off_loop(lambda: loop.call(lambda: list(crm.hits)))) == hits

            # 5. Half-open after the reset: the VIP's call is the trial, and closes it.
            await eventually(lambda: _breaker(engine) == "half-open", RESET_S + 10, "half-open")
            record, prompts = await _call(engine, observer, VIP, WELCOMED_S)
            assert prompts[:1] == ["cm-welcome-vip"], explain(record, observer)
            assert await off_loop(lambda: _breaker(engine)) == "closed"
            assert len(await off_loop(lambda: loop.call(lambda: list(crm.hits)))) == hits + 1


def _fail_next(crm: FakeCrm, status: int) -> None:
    """No delay any more, but the next request is answered ``status``."""
    crm.delay = 0.0
    crm.statuses.append(status)


def _apologised(
    record: dict[str, Any], prompts: list[str], observer: AmiObserver, reason: str
) -> None:
    """The caller was not identified (for ``reason``), heard the apology and was offered
    an agent: waiting in the shared pool's queue when hanging up."""
    why = explain(record, observer)
    (failed,) = steps(record, "lookup-failed")
    assert failed.startswith("cm-identify: ") and reason in failed, why
    assert prompts[:2] == APOLOGY, why
    assert steps(record, "queue") == ["cm-seat-shared skills=general:1 priority=0"], why
    assert steps(record, "acd")[:1] == ["enter general priority=0"], why
    assert str(record["outcome"]).startswith("caller-hangup"), why
