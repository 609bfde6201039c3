"""The soak's calls: benchmark 1's IVR load kept up for as long as asked, and a few agents
answering calls that pressed 0 into a queue.

:class:`SteadyLoad` places benchmark 1's call (testbed/telephony/hotline_call.py: a GoTone
subscriber presses 1 and 1, hears the balance and the billing menu again and hangs up)
at a steady rate with its SIPp load step (testbed/telephony/sipp_load.py,
testbed/sipp/load_caller.xml). One SIPp process places the calls of one segment (a minute);
the next segment's SIPp starts when the previous one has created its last call, so the
arrivals never pause while the two overlap for a call's length.

:class:`AgentCalls` keeps ``agents`` SIPp agent phones (testbed/sipp.py
``answer_as_agent``) and as many callers going: each caller, another copy of the GoTone
subscriber, presses 0 in the welcome, waits in the gotone queue, is put through to the
agent the ACD reserved, and is let go when the agent hangs up; then the next caller calls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import make_url

from testbed.sipp import AgentHandle, answer_as_agent, place_call
from testbed.sipp_result import SippResult
from testbed.telephony.hotline_call import CALLER, ENGINE_NUMBER, KEYS, LISTEN, CallerPool
from testbed.telephony.sipp_load import LoadOutcome, LoadStep, run_step

SEGMENT_S = 60.0
AGENT_QUEUE = "gotone"
AGENT_KEY = (1.0, "0")  # 0 during the 10086 welcome: to the caller's queue
AGENT_ANSWER_S = 0.5
AGENT_TALK_S = 1.5  # after the whisper
AGENT_CALL_MAX_S = 120.0
AGENT_IDLE_MAX_S = 120.0  # an agent phone waiting longer for a call is started again
PAUSE_BETWEEN_CALLS_S = 1.0


class SteadyLoad:
    """``rate`` calls/s for ``seconds`` into the engine's 10086, from ``pool``'s numbers;
    ``run()`` returns when every call has ended."""

    def __init__(
        self,
        rate: float,
        seconds: float,
        pool: CallerPool,
        workdir: Path,
        segment: float = SEGMENT_S,
    ) -> None:
        self.rate, self.seconds, self.pool = rate, seconds, pool
        self.workdir, self.segment = workdir, segment
        self.outcomes: list[LoadOutcome] = []
        self.started = 0.0  # time.monotonic() of the first segment's start

    def _steps(self) -> list[LoadStep]:
        steps: list[LoadStep] = []
        count = max(1, math.ceil(self.seconds / self.segment - 1e-9))
        for i in range(count):
            length = min(self.segment, self.seconds - i * self.segment)
            calls = max(1, round(self.rate * length))
            steps.append(
                LoadStep(ENGINE_NUMBER, self.pool.take(calls), self.rate, calls, KEYS, LISTEN)
            )
        return steps

    async def _segment(self, index: int, step: LoadStep, at: float) -> LoadOutcome:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        where = self.workdir / f"segment-{index:03}"
        outcome = await run_step(step, where)
        if outcome.all_successful and outcome.kept_rate:
            shutil.rmtree(where, ignore_errors=True)
        return outcome

    async def run(self) -> None:
        steps = self._steps()
        self.started = time.monotonic()
        starts = [
            self.started + sum(s.calls / s.rate for s in steps[:i]) for i in range(len(steps))
        ]
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(self._segment(i, step, at))
                for i, (step, at) in enumerate(zip(steps, starts, strict=True))
            ]
        self.outcomes = [task.result() for task in tasks]

    @property
    def placed(self) -> int:
        return sum(o.created for o in self.outcomes)

    @property
    def successful(self) -> int:
        return sum(o.successful for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(o.failed for o in self.outcomes)

    @property
    def asked(self) -> int:
        return sum(o.step.calls for o in self.outcomes)

    def problems(self) -> list[str]:
        """What went wrong in the segments (SIPp's counts, a missed rate, its errors)."""
        found: list[str] = []
        for o in self.outcomes:
            if o.all_successful and o.kept_rate:
                continue
            found.append(
                f"{o.workdir}: {o.created} created, {o.successful} successful, {o.failed} "
                f"failed of {o.step.calls} (exit {o.returncode}); calls created in "
                f"{o.arrivals_seconds} s, asked {o.step.calls / o.step.rate:.0f} s"
                + (f"; errors: {o.errors[-600:]}" if o.errors else "")
            )
        return found


@dataclass
class AgentCalls:
    """Callers pressing 0 into the gotone queue and agent phones answering them."""

    agents: Sequence[str]
    pool: CallerPool
    talk: float  # seconds an agent stays on the line after answering (whisper + talk)
    placed: int = 0
    put_through: int = 0
    answered_by_agents: int = 0
    failures: list[str] = field(default_factory=list)

    async def _caller(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            (caller,) = self.pool.take(1)
            self.placed += 1
            result = await place_call(
                caller, ENGINE_NUMBER, keys=[AGENT_KEY], max_duration=AGENT_CALL_MAX_S
            )
            if result.successful and result.answered and result.far_hangup:
                self.put_through += 1
            else:
                self.failures.append(f"caller {caller}: {result.describe()[-1500:]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PAUSE_BETWEEN_CALLS_S)

    async def _phone(self, agent: str, done: asyncio.Event) -> None:
        while not done.is_set():
            handle: AgentHandle = await answer_as_agent(
                agent,
                answer_after=AGENT_ANSWER_S,
                talk_for=self.talk,
                max_duration=AGENT_IDLE_MAX_S,
            )
            async with handle:
                ending = asyncio.create_task(handle.result())
                stopping = asyncio.create_task(done.wait())
                try:
                    await asyncio.wait({ending, stopping}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stopping.cancel()
                # The callers' calls have all ended when ``done`` is set: a phone still
                # running then waits for a call that will not come.
                result = ending.result() if ending.done() else await handle.stop()
                ending.cancel()
            self._count(agent, result)

    def _count(self, agent: str, result: SippResult) -> None:
        if result.answered:
            self.answered_by_agents += 1
            if not result.successful:
                self.failures.append(f"agent {agent}: {result.describe()[-1500:]}")

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set and the calls then under way have ended."""
        if not self.agents:
            return
        callers_done = asyncio.Event()
        async with asyncio.TaskGroup() as group:
            for agent in self.agents:
                group.create_task(self._phone(agent, callers_done))
            async with asyncio.TaskGroup() as callers:
                for _ in self.agents:
                    callers.create_task(self._caller(stop))
            callers_done.set()


def add_callers_postgres(url: str, numbers: Sequence[str], template: str = CALLER) -> None:
    """:func:`testbed.telephony.hotline_call.add_callers` on a PostgreSQL database: copy the
    subscriber ``template`` under every number of ``numbers`` (after ``ivr-engine data
    load-demo``). Synchronous: runs its own loop in a worker thread."""

    async def copy() -> int:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            rows = await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'subscribers' AND table_schema = current_schema()"
            )
            rest = [r["column_name"] for r in rows if r["column_name"] != "number"]
            if not rest:
                raise RuntimeError(f"{url}: no subscribers table")
            listed = ", ".join(f'"{c}"' for c in rest)
            await conn.execute(
                f"INSERT INTO subscribers (number, {listed}) SELECT n, {listed} "
                "FROM subscribers, unnest($1::text[]) AS n WHERE number = $2 "
                "ON CONFLICT (number) DO NOTHING",
                list(numbers),
                template,
            )
            copied = await conn.fetchval(
                "SELECT count(*) FROM subscribers WHERE number = ANY($1::text[])", list(numbers)
            )
        finally:
            await conn.close(timeout=10)
        return int(copied)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        copied = pool.submit(asyncio.run, copy()).result(timeout=120)
    if copied < len(numbers):
        raise RuntimeError(f"only {copied} of {len(numbers)} callers added to the database")
