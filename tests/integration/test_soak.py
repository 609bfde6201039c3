"""The soak: the real engine under 80 % of benchmark 1's capacity through the real
Asterisk for 30 minutes (``make soak``), with a few agents answering queued calls; nothing
may grow, nothing may be lost.

Skipped unless ``IVR_SOAK_MINUTES`` is set (``make soak`` sets 30; ``IVR_SOAK_MINUTES=3``
for a check run). The rate, the sampling and the pass criteria are described in
testbed/soak.py, the calls in testbed/soak_load.py; the results go to
``var/soak/soak-<time>.csv`` (every sample) and ``.txt`` (the summary table, also printed).

The run: the engine starts on a database of its own with benchmark 1's callers; the agents
log in; a priming burst of calls (10 s of the load, one call per agent) loads code and
fills the pools, then the idle figures are taken once the burst has drained. The load and
the agent calls run for ``IVR_SOAK_MINUTES``, sampled every ``IVR_SOAK_INTERVAL`` seconds.
When the arrivals stop, the calls under way end, the agents' wrap-up passes and the drained
figures are taken. Then every call placed must have gone the whole way, in SIPp's account
and in the journal (one finished record each, counted), no call may be left waiting and
no agent reserved or on a call.

``IVR_SOAK_DATABASE=postgresql`` runs the engine on a scratch PostgreSQL database instead
of SQLite (its connections are then counted in ``pg_stat_activity``).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.telephony.testbed import BenchEngine
from bench.telephony.testbed import Testbed as Bed
from bench.telephony.testbed import testbed as locked_testbed
from ground.paths import PROJECT_ROOT
from testbed.acd import AcdProbe
from testbed.asterisk import unavailable_reason
from testbed.postgres import PostgresUnavailable, scratch_database
from testbed.soak import (
    Check,
    DbUse,
    Sample,
    Sampler,
    SoakPlan,
    count_check,
    fetch_metrics,
    judge,
    pool_capacity,
    postgres_use,
    sqlite_use,
    summary,
    write_csv,
    write_summary,
)
from testbed.soak_journal import journal_tally
from testbed.soak_load import AgentCalls, SteadyLoad, add_callers_postgres
from testbed.telephony.hotline_call import CALLERS, FIRST_NUMBER, CallerPool, add_callers
from tests.integration.acd_calls import talk_for

pytestmark = [pytest.mark.soak, pytest.mark.asterisk]

AGENTS = ("8009", "8010", "8011", "8012", "8013", "8014", "8015", "8016")  # the GoTone seats
AGENT_FIRST, AGENT_CALLERS = 13930000000, 5000  # the agent calls' callers, GoTone copies
PRIME_S = 10.0
SETTLE_S = 20.0  # after the drain, until the agents' wrap-up (15 s) has passed
DRAIN_TIMEOUT_S = 120.0
RESULTS = PROJECT_ROOT / "var" / "soak"


def _unavailable() -> None:
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: the soak must run, not skip)")
        pytest.skip(reason)


@contextmanager
def _database(kind: str) -> Iterator[str | None]:
    """None for the engine's own SQLite file; a scratch PostgreSQL URL when asked."""
    if kind not in ("sqlite", "postgresql"):
        pytest.fail(f"IVR_SOAK_DATABASE={kind!r}: sqlite or postgresql")
    if kind == "sqlite":
        yield None
        return
    try:
        with scratch_database("ivr_soak") as url:
            yield url
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


async def _until(what: str, check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(0.5)


class Soak:
    def __init__(self, plan: SoakPlan, bed: Bed, engine: BenchEngine, workdir: Path) -> None:
        self.plan, self.bed, self.engine, self.workdir = plan, bed, engine, workdir
        self.url = engine.env["IVR_ENGINE_DATABASE__URL"]
        self.backend = "postgresql" if self.url.startswith("postgresql") else "sqlite"
        self.metrics_url = f"http://127.0.0.1:{engine.http_port}/metrics"
        self.sampler = Sampler(self.metrics_url, self._database, bed.channels)
        self.load_pool = CallerPool()
        self.agent_pool = CallerPool(AGENT_FIRST, AGENT_CALLERS)
        self.agents = AGENTS[: plan.agents]
        self.loads: list[SteadyLoad] = []
        self.desks: list[AgentCalls] = []
        self.probe = AcdProbe(engine)
        self.started = 0.0  # time.monotonic() when the load started

    async def _database(self) -> DbUse:
        if self.backend == "postgresql":
            return await postgres_use(self.url)
        pid = self.engine.pid
        if pid is None:
            raise AssertionError(f"the engine is not running:\n{self.engine.log_tail()}")
        return await asyncio.to_thread(sqlite_use, pid, self.engine.database_path)

    async def _calls(self, seconds: float) -> None:
        """The load for ``seconds``, and the agent calls beside it until then."""
        where = self.workdir / f"load-{len(self.loads)}"
        load = SteadyLoad(self.plan.rate, seconds, self.load_pool, where)
        desk = AgentCalls(self.agents, self.agent_pool, talk_for("gotone"))
        self.loads.append(load)
        self.desks.append(desk)
        stop = asyncio.Event()
        async with asyncio.TaskGroup() as group:
            group.create_task(desk.run(stop))
            await load.run()
            stop.set()

    async def _drained(self) -> None:
        await self.bed.wait_idle(DRAIN_TIMEOUT_S)

        async def settled() -> bool:
            values = await fetch_metrics(self.metrics_url)
            return values["ivr_calls_active"] == 0 and values["ivr_journal_queue_depth"] == 0

        await _until("no call in flight, the journal written", settled, DRAIN_TIMEOUT_S)

    def _sample_at(self) -> float:
        return time.monotonic() - self.started

    async def _take(self, phase: str, at: float) -> None:
        print(_line(await self.sampler.take(phase, at)), flush=True)

    async def prime(self) -> None:
        """Agents logged in, a burst of calls drained, then the idle figures."""
        await asyncio.to_thread(self.probe.reset)
        await asyncio.to_thread(self.probe.log_in, *self.agents)
        await self._calls(PRIME_S)
        await self._drained()
        await asyncio.sleep(SETTLE_S)
        await self._take("idle", -SETTLE_S / 2)
        await asyncio.sleep(SETTLE_S / 2)
        await self._take("idle", 0.0)

    async def run(self) -> None:
        """The load, sampled every interval from its start to its last arrival."""
        plan = self.plan
        self.started = time.monotonic()

        async def sample() -> None:
            k = 0
            while k * plan.interval <= plan.load_s + 1e-6:
                await asyncio.sleep(max(0.0, self.started + k * plan.interval - time.monotonic()))
                await self._take("load", self._sample_at())
                k += 1

        async with asyncio.TaskGroup() as group:
            group.create_task(sample())
            group.create_task(self._calls(plan.load_s))

    async def drain(self) -> None:
        """Once every call has ended, three samples over the agents' wrap-up."""
        await self._drained()
        for k in range(3):
            if k:
                await asyncio.sleep(SETTLE_S / 2)
            await self._take("drain", self._sample_at())

    def _sipp_checks(self) -> tuple[list[Check], list[str]]:
        asked = sum(x.asked for x in self.loads)
        problems = [p for x in self.loads for p in x.problems()]
        checks = [
            count_check("load calls SIPp placed", sum(x.placed for x in self.loads), asked),
            count_check(
                "load calls successful (SIPp)", sum(x.successful for x in self.loads), asked
            ),
            count_check("load calls failed (SIPp)", sum(x.failed for x in self.loads), 0),
            count_check("load segments that missed the rate or a call", len(problems), 0),
        ]
        placed = sum(d.placed for d in self.desks)
        failures = [f for d in self.desks for f in d.failures]
        if self.agents:
            put_through = sum(d.put_through for d in self.desks)
            agents_failed = [f for f in failures if f.startswith("agent")]
            checks += [
                count_check("agent calls put through and let go", put_through, placed),
                count_check("agent phones' calls that failed", len(agents_failed), 0),
            ]
        return checks, problems[:5] + failures[:5]

    async def _journal_checks(self, since: datetime) -> tuple[list[Check], str]:
        placed = sum(x.placed for x in self.loads)
        agent_placed = sum(d.placed for d in self.desks)
        tally = await journal_tally(
            self.url,
            since,
            (FIRST_NUMBER, FIRST_NUMBER + CALLERS - 1),
            (AGENT_FIRST, AGENT_FIRST + AGENT_CALLERS - 1),
        )
        return [
            count_check("journal records of load calls", tally.load, placed),
            count_check("load calls gone the whole way (journal)", tally.load_ok, placed),
            count_check("journal records of agent calls", tally.agent, agent_placed),
            count_check(
                "agent calls that talked to an agent (journal)", tally.agent_ok, agent_placed
            ),
            count_check("journal records without an end", tally.unfinished, 0),
            count_check("journal records of no soak call", tally.others, 0),
        ], tally.line()

    async def checks(self, since: datetime) -> tuple[list[Check], list[str]]:
        """The samples judged, then every call counted; (checks, facts for the summary)."""
        checks = judge(self.sampler.samples, self.plan, pool_capacity())
        sipp, notes = self._sipp_checks()
        journal, tallied = await self._journal_checks(since)
        waiting = await asyncio.to_thread(self.probe.waiting)
        states = await asyncio.to_thread(self.probe.states)
        held = {a: s for a, s in states.items() if s in ("reserved", "on-call")}
        running = self.engine.running
        checks += [
            *sipp,
            *journal,
            count_check("waiting_calls rows", len(waiting), 0),
            Check("agents reserved or on a call", str(held or "none"), "none", not held),
            Check("the engine still running", str(running), "True", running),
        ]
        facts = [
            f"{sum(x.placed for x in self.loads)} load calls placed, "
            f"{sum(d.placed for d in self.desks)} agent calls; agents {', '.join(self.agents)}; "
            f"database {self.backend}",
            tallied,
            *notes,
        ]
        return checks, facts


def _line(s: Sample) -> str:
    return (
        f"  {s.phase:5} {s.at:7.0f} s  rss {s.rss_mb:6.1f} MB  tasks {s.tasks:4}  fds {s.fds:4}  "
        f"calls {s.calls_active:4}  db {s.db_connections:3} ({s.db_fds:3} fds)  "
        f"channels {s.channels:4}  journal queue {s.journal_queue:4}  lag {s.loop_lag_ms:.1f} ms"
    )


@pytest.mark.skipif(
    not os.environ.get("IVR_SOAK_MINUTES"),
    reason="the soak runs with `make soak` (IVR_SOAK_MINUTES=30)",
)
async def test_soak_nothing_grows_nothing_is_lost(tmp_path: Path) -> None:
    plan = SoakPlan.from_environment()
    _unavailable()
    numbers = [*CallerPool().all(), *CallerPool(AGENT_FIRST, AGENT_CALLERS).all()]
    csv_path = RESULTS / f"soak-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.csv"
    with _database(os.environ.get("IVR_SOAK_DATABASE", "sqlite")) as url:

        def prepare(database: Path) -> None:
            if url:
                add_callers_postgres(url, numbers)
            else:
                add_callers(database, numbers)

        extra = {"IVR_ENGINE_DATABASE__URL": url} if url else {}
        async with locked_testbed(baseline=False) as bed:
            engine = BenchEngine(tmp_path / "engine", extra, prepare=prepare)
            await asyncio.to_thread(engine.start)
            soak = Soak(plan, bed, engine, tmp_path)
            try:
                since = datetime.now(UTC)
                print(f"\nsoak: {plan.minutes:g} min at {plan.rate:g} calls/s ({plan.rate_source})")
                await soak.prime()
                await soak.run()
                await soak.drain()
                checks, facts = await soak.checks(since)
            finally:
                await asyncio.to_thread(engine.stop)
                write_csv(soak.sampler.samples, csv_path)  # what was sampled, even if it broke
    text = summary(soak.sampler.samples, plan, checks, [*facts, f"samples: {csv_path}"])
    write_summary(text, checks, csv_path.with_suffix(".txt"))
    print("\n" + text, flush=True)
    failed = [c for c in checks if not c.passed]
    assert not failed, text + "\n" + engine.log_tail()
