"""Benchmark 1: IVR throughput through the real Asterisk, engine against plain dialplan.

What is measured. SIPp callers (one SIPp process per step, ``-r``/``-m``/``-l``, traces
off) call the demo hotline as GoTone subscribers (copies of the demo's 13900139000, each
under a number of its own, one number per call: testbed/telephony/hotline_call.py), press
1 (billing) during
the welcome and 1 (balance) during the billing menu as RFC 4733 events, hear the balance
read out as money and the billing menu start again, and hang up (bench/telephony/
hotline_call.py). The engine takes these calls on 10086; the same menu written as plain
dialplan (bench/dialplan/hotline_baseline.conf: Background, WaitExten, Playback, the same
prompt files) takes them on 20086. The call rate is stepped up (5, 10, 20, 30, 40, 50,
60, 80 calls/s; each step places the calls of 15 s at that rate), the dialplan and the
engine taking turns at each rate, for as long as each still carries its step.

A step is carried when every call went the whole way: SIPp counts every call successful
(answered, no BYE from the far end before the caller hangs up, the BYE answered) and
created the calls at the asked rate; for the engine every call is in the journal with
both keys, the balance query and the whole read-out followed by the billing menu; for
the dialplan Asterisk logged the end of the read-out for every call; and a few sample
calls of our own (testbed/telephony/sip_caller.py) placed during the step heard exactly
the expected prompts, recognised from the audio bytes they received. A failed step is
tried once more before it counts as failed (both sides alike), and once it fails that
side climbs no further; between the last carried and the first failed rate up to two
more steps, each at the middle rate, narrow it down. When the target is missed, one more
engine step at the rate it could not carry runs with py-spy sampling the engine
(bench/telephony/profile.py), and the notes give where its CPU went.

Figures. The highest sustained rate of each (calls/s) and their ratio; the target is
engine / dialplan >= 0.9. The engine's CPU time per call is its process's user + system
time (/proc/<pid>/stat, every thread) over the step, divided by the step's calls; the
same for Asterisk, on the engine's calls and on the dialplan's. At every step the CPU
use of the engine, Asterisk, SIPp and the whole machine is kept: the notes name the one
that saturated at the first failed step (SIPp and the engine each run on one core; a
machine near 100 % busy means Asterisk, SIPp and the engine together used it all).
The engine runs as ``ivr-engine run`` with its own SQLite journal (the harness's
EngineProcess, INFO logging); Asterisk is the test bed as configured, shared with the
test suite under /tmp/asterisk-tests.lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.result import BenchResult, Figure
from bench.telephony.profile import Profile
from bench.telephony.profile import sample as sample_stacks
from bench.telephony.testbed import (
    BenchEngine,
    CpuSampler,
    Testbed,
    asterisk_pid,
    cpu_count,
    running_engine,
    testbed,
)
from testbed.telephony.hearing import PromptIndex
from testbed.telephony.hotline_call import (
    BASELINE_NUMBER,
    ENGINE_NUMBER,
    KEYS,
    LISTEN,
    PRESSES,
    CallerPool,
    add_callers,
    baseline_calls_ok,
    check_demo_data,
    engine_calls_ok,
    heard_as_expected,
    messages_offset,
    prompt_index,
)
from testbed.telephony.sip_caller import SipCaller
from testbed.telephony.sipp_load import LoadOutcome, LoadStep, run_step

RATES = (5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 80.0)
STEP_SECONDS = 15.0
SAMPLES = 3
QUICK_RATES = (10.0,)
QUICK_STEP_SECONDS = 3.0
QUICK_SAMPLES = 1
WARM_UP_SECONDS = 3.0
TARGET = 0.9
BUSY_HOUR = 10.0  # calls/s: the busy hour of a centre of the domain's size
SATURATED = 0.85  # a one-threaded process using this much of a core is saturated
ENGINE, DIALPLAN = "engine", "dialplan"


@dataclass
class Step:
    target: str
    rate: float
    calls: int  # SIPp's calls and the samples
    load: LoadOutcome
    went_through: int
    samples: int
    samples_ok: int
    sample_note: str
    engine_cpu: float  # CPU seconds over the whole step, verification included
    asterisk_cpu: float
    steady: dict[str, float]  # CPU use while the step's calls were all up (see usage)
    retry: bool = False
    profile: Profile | str | None = None  # the engine's, when asked for

    @property
    def failed(self) -> int:
        return self.calls - self.went_through

    @property
    def carried(self) -> bool:
        return (
            self.load.all_successful
            and self.load.kept_rate
            and self.went_through == self.calls
            and self.samples_ok == self.samples
        )

    def usage(self) -> dict[str, float]:
        """CPU use while the step's calls were up: a core's share for the engine and SIPp
        (one thread each), the share of all cores for Asterisk and the machine."""
        sipp_wall = max(self.load.ended - self.load.started, 1e-9)
        return {
            "engine": self.steady.get(ENGINE, 0.0),
            "asterisk": self.steady.get("asterisk", 0.0) / cpu_count(),
            "sipp": self.steady.get("sipp", self.load.sipp_cpu / sipp_wall),
            "machine": self.steady.get("machine", 0.0),
        }

    def line(self) -> str:
        u = self.usage()
        why = [] if self.carried else [self.why()]
        return (
            f"{self.target} {self.rate:g} calls/s{' (again)' if self.retry else ''}: "
            f"{self.went_through}/{self.calls} calls through; CPU engine {u['engine']:.0%} "
            f"of a core, Asterisk {u['asterisk']:.0%} of {cpu_count()} cores, SIPp "
            f"{u['sipp']:.0%} of a core, machine {u['machine']:.0%}"
            + "".join(f"; {w}" for w in why)
        )

    def why(self) -> str:
        reasons: list[str] = []
        load = self.load
        if not load.kept_rate:
            reasons.append(
                f"SIPp took {load.arrivals_seconds} s to create {load.step.calls} calls "
                f"(asked: {load.step.calls / load.step.rate:.0f} s)"
            )
        if load.failed or load.successful != load.step.calls:
            reasons.append(
                f"SIPp: {load.successful} successful, {load.failed} failed (exit {load.returncode})"
            )
        if self.went_through != self.calls:
            reasons.append(f"{self.calls - self.went_through} calls did not go the whole way")
        if self.samples_ok != self.samples:
            reasons.append(f"a sample heard: {self.sample_note}")
        return "; ".join(reasons) or "carried"


async def _sample(index: PromptIndex, caller: str, dialled: str, delay: float) -> tuple[bool, str]:
    await asyncio.sleep(delay)
    call = await SipCaller(caller, dialled).run(PRESSES, LISTEN)
    return heard_as_expected(index, call)


async def _step(
    bed: Testbed,
    engine: BenchEngine,
    index: PromptIndex,
    pool: CallerPool,
    target: str,
    rate: float,
    seconds: float,
    samples: int,
    workdir: Path,
    profile: bool = False,
) -> Step:
    await bed.wait_idle()
    dialled = ENGINE_NUMBER if target == ENGINE else BASELINE_NUMBER
    calls = max(10, round(rate * seconds))
    callers = pool.take(calls + samples)
    load_step = LoadStep(dialled, callers[:calls], rate, calls, KEYS, LISTEN)
    since, offset = datetime.now(UTC), messages_offset()
    sampler = CpuSampler()
    sampler.watch(ENGINE, engine.pid)
    sampler.watch("asterisk", asterisk_pid())
    sampler.sample()
    before = sampler.samples[0]
    sampling = asyncio.create_task(sampler.run())
    arrivals = calls / rate
    load_task = asyncio.create_task(
        run_step(load_step, workdir, lambda pid: sampler.watch("sipp", pid))
    )
    sample_tasks = [
        asyncio.create_task(
            _sample(index, callers[calls + i], dialled, arrivals * (i + 1) / (samples + 1))
        )
        for i in range(samples)
    ]
    profiling = (
        asyncio.create_task(sample_stacks(engine.pid, arrivals + LISTEN))
        if profile and engine.pid is not None
        else None
    )
    try:
        load = await load_task
        heard = await asyncio.gather(*sample_tasks)
        stacks = await profiling if profiling is not None else None
        await bed.wait_idle()
        total = calls + samples
        if target == ENGINE:
            went, _ = await engine_calls_ok(engine, since, callers)
        else:
            went = await baseline_calls_ok(offset, total)
    finally:
        for task in [load_task, *sample_tasks, sampling, *([profiling] if profiling else [])]:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
    sampler.pids.pop("sipp", None)
    sampler.sample()
    after = sampler.samples[-1]
    # While every call of the step is up: from one call length after the start to the
    # last arrival; a step too short for that is taken whole.
    steady_from, steady_to = load.started + LISTEN + 1.0, load.started + arrivals
    if steady_to - steady_from < 2.0:
        steady_from, steady_to = load.started, load.ended
    bad = [note for ok, note in heard if not ok]
    return Step(
        target,
        rate,
        total,
        load,
        went,
        samples,
        samples - len(bad),
        bad[0] if bad else "",
        after.cpu.get(ENGINE, 0.0) - before.cpu.get(ENGINE, 0.0),
        after.cpu["asterisk"] - before.cpu["asterisk"],
        sampler.usage(steady_from, steady_to),
        profile=stacks,
    )


class _Ladder:
    """Runs the steps and keeps, per side, the highest rate carried and the first failed."""

    def __init__(self, run_step: Callable[[str, float], Awaitable[Step]]) -> None:
        self.run_step = run_step
        self.steps: list[Step] = []
        self.best: dict[str, float] = {ENGINE: 0.0, DIALPLAN: 0.0}
        self.failed_at: dict[str, float | None] = {ENGINE: None, DIALPLAN: None}

    async def attempt(self, target: str, rate: float) -> bool:
        step = await self.run_step(target, rate)
        self.steps.append(step)
        if not step.carried:
            step = await self.run_step(target, rate)
            step.retry = True
            self.steps.append(step)
        if step.carried:
            self.best[target] = max(self.best[target], rate)
            return True
        failed = self.failed_at[target]
        self.failed_at[target] = rate if failed is None else min(failed, rate)
        return False

    async def climb(self, rates: tuple[float, ...]) -> None:
        for rate in rates:
            for target in (DIALPLAN, ENGINE):
                if self.failed_at[target] is None:
                    await self.attempt(target, rate)
            if all(v is not None for v in self.failed_at.values()):
                break

    async def narrow(self, rounds: int = 2) -> None:
        """Halve the gap between the last rate carried and the first failed, per side."""
        for _ in range(rounds):
            for target in (DIALPLAN, ENGINE):
                failed, best = self.failed_at[target], self.best[target]
                if failed is not None and best > 0 and failed / best > 1.15:
                    await self.attempt(target, round((best + failed) / 2))

    def common_rate(self) -> float:
        """The highest rate both sides carried (0 if there is none)."""
        carried = {
            side: {s.rate for s in self.steps if s.target == side and s.carried}
            for side in (ENGINE, DIALPLAN)
        }
        return max(carried[ENGINE] & carried[DIALPLAN], default=0.0)

    def ratio(self) -> float:
        dialplan = self.best[DIALPLAN]
        return self.best[ENGINE] / dialplan if dialplan else math.nan

    def first_failure(self, target: str) -> Step | None:
        failed = self.failed_at[target]
        found = [s for s in self.steps if s.target == target and s.rate == failed]
        return found[-1] if found else None

    def at(self, target: str, rate: float) -> Step | None:
        found = [s for s in self.steps if s.target == target and s.rate == rate and s.carried]
        return found[-1] if found else None


class _StepRunner:
    def __init__(
        self,
        bed: Testbed,
        engine: BenchEngine,
        index: PromptIndex,
        pool: CallerPool,
        seconds: float,
        samples: int,
        workdir: Path,
        label: str = "",
    ) -> None:
        self.bed, self.engine, self.index, self.pool = bed, engine, index, pool
        self.seconds, self.samples, self.workdir = seconds, samples, workdir
        self.label = label
        self.count = 0

    async def __call__(self, target: str, rate: float, profile: bool = False) -> Step:
        self.count += 1
        where = self.workdir / f"{self.count:02}-{target}-{rate:g}"
        step = await _step(
            self.bed,
            self.engine,
            self.index,
            self.pool,
            target,
            rate,
            self.seconds,
            self.samples,
            where,
            profile,
        )
        print(f"  {self.label}{step.line()}", flush=True)
        if step.carried:
            shutil.rmtree(where, ignore_errors=True)
        return step


def _saturation(step: Step | None, target: str, top: float) -> str:
    if step is None:
        return (
            f"The {target} carried every step up to {top:g} calls/s, the top of the ladder: "
            "its limit is higher."
        )
    u = step.usage()
    found: list[str] = []
    if u["sipp"] >= SATURATED:
        found.append(f"SIPp ({u['sipp']:.0%} of its one core)")
    if u["engine"] >= SATURATED:
        found.append(f"the engine ({u['engine']:.0%} of its one core)")
    if u["machine"] >= 0.9:
        found.append(
            f"the machine's CPU ({u['machine']:.0%} busy; Asterisk alone "
            f"{u['asterisk']:.0%} of {cpu_count()} cores)"
        )
    ports = step.load.refusals.get(488, 0)
    if ports:
        found.insert(
            0,
            f"Asterisk's RTP ports ({ports} INVITEs refused 488 Not Acceptable Here with "
            f"{step.load.most_at_once} calls up: asterisk/etc/rtp.conf gives 1,000 ports, "
            "one pair per call)",
        )
    verdict = (
        ", ".join(found)
        if found
        else "no process at its CPU limit (calls late: see the engine's journal of the step)"
    )
    return (
        f"The {target} first failed at {step.rate:g} calls/s ({step.why()}). "
        f"Saturated there: {verdict}."
    )


async def run(quick: bool) -> BenchResult:
    check_demo_data()
    rates = QUICK_RATES if quick else RATES
    seconds = QUICK_STEP_SECONDS if quick else STEP_SECONDS
    samples = QUICK_SAMPLES if quick else SAMPLES
    index = prompt_index()
    pool = CallerPool()
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-throughput-"))

    def prepare(database: Path) -> None:
        add_callers(database, pool.all())

    async with testbed() as bed, running_engine(workdir / "engine", prepare) as engine:
        runner = _StepRunner(bed, engine, index, pool, seconds, samples, workdir / "steps")
        ladder = _Ladder(runner)
        if not quick:
            # Warm-up: the first calls load code and fill caches on both sides.
            warm_up = _StepRunner(
                bed, engine, index, pool, WARM_UP_SECONDS, 1, workdir / "warm-up", "warm-up: "
            )
            await warm_up(DIALPLAN, 5.0)
            await warm_up(ENGINE, 5.0)
        await ladder.climb(rates)
        profiled: Step | None = None
        if not quick:
            await ladder.narrow()
            if ladder.ratio() < TARGET:
                # Missed: where does the engine's CPU go at the rate it could not carry?
                rate = ladder.failed_at[ENGINE] or ladder.best[ENGINE]
                profiled = await runner(ENGINE, rate, profile=True)
    kept = [s for s in ladder.steps if not s.carried]
    if not kept:
        shutil.rmtree(workdir, ignore_errors=True)
    return _result(ladder, rates, seconds, samples, quick, workdir if kept else None, profiled)


def _per_call_ms(step: Step | None, cpu: float | None = None) -> float:
    if step is None:
        return math.nan
    return (step.engine_cpu if cpu is None else cpu) / step.calls * 1000


def _result(
    ladder: _Ladder,
    rates: tuple[float, ...],
    seconds: float,
    samples: int,
    quick: bool,
    kept: Path | None,
    profiled: Step | None = None,
) -> BenchResult:
    engine_best, dialplan_best = ladder.best[ENGINE], ladder.best[DIALPLAN]
    ratio = ladder.ratio()
    top = engine_best
    engine_top = ladder.at(ENGINE, top)
    common = ladder.common_rate()  # the highest rate both sides carried
    engine_common, dialplan_common = ladder.at(ENGINE, common), ladder.at(DIALPLAN, common)
    busy_engine = ladder.at(ENGINE, BUSY_HOUR)
    engine_ms = _per_call_ms(engine_top)
    figures = [
        Figure(
            "highest sustained rate, no failed call",
            engine_best,
            "calls/s",
            baseline=dialplan_best,
        ),
        Figure(
            "engine / dialplan sustained rate",
            ratio,
            "",
            target=f">= {TARGET}",
            met=bool(ratio >= TARGET) if ratio == ratio else False,
        ),
        Figure(f"engine CPU time per call at {top:g} calls/s", engine_ms, "ms"),
    ]
    if top != BUSY_HOUR:
        figures.append(
            Figure(
                f"engine CPU time per call at {BUSY_HOUR:g} calls/s",
                _per_call_ms(busy_engine),
                "ms",
            )
        )
    figures += [
        Figure(
            f"Asterisk CPU time per call at {common:g} calls/s",
            _per_call_ms(engine_common, engine_common.asterisk_cpu if engine_common else None),
            "ms",
            baseline=_per_call_ms(
                dialplan_common, dialplan_common.asterisk_cpu if dialplan_common else None
            ),
        ),
        Figure(
            "calls/s one core of engine CPU time carries",
            1000 / engine_ms if engine_ms and engine_ms == engine_ms else math.nan,
            "calls/s",
        ),
    ]
    notes = [
        "Method: SIPp callers dial the demo hotline as GoTone subscribers (copies of the "
        "demo's 13900139000, one number per call), press 1 (billing) in the welcome and 1 "
        "(balance) in the billing menu (RFC 4733), hear the balance and the billing menu "
        f"again and hang up after {LISTEN:g} s. Engine: "
        "10086 through FastAGI; baseline: the same menu as plain dialplan on 20086 "
        "(bench/dialplan/hotline_baseline.conf). Rates stepped "
        + ", ".join(f"{r:g}" for r in rates)
        + f" calls/s, {seconds:g} s of calls per step, the two sides taking turns; "
        f"{samples} sample call(s) per step check the prompts heard on the wire.",
        "A step is carried when SIPp kept the rate and counts every call successful, every "
        "call went the whole way (the engine's journal; Asterisk's log for the dialplan) "
        "and the samples heard exactly the expected prompts. A failed step is tried once "
        "more. The ratio's resolution is the ladder's, narrowed by up to two middle steps.",
        "CPU time per call: the process's user + system time over the step (all its "
        "threads), divided by the step's calls; the engine's includes its journal, AMI "
        "link and ACD, and its fixed background work over the step (timers, ACD passes), "
        "which weighs more at low rates. Baseline column of the Asterisk row: Asterisk's "
        "CPU per call for the dialplan's calls at the same rate.",
        "Asterisk, SIPp and the engine share this machine's cores: where the machine's CPU "
        "is what ran out, the engine's CPU per call is what the engine takes from Asterisk; "
        "where Asterisk's RTP ports ran out, that is the test bed's limit for both sides.",
        _saturation(ladder.first_failure(DIALPLAN), DIALPLAN, rates[-1]),
        _saturation(ladder.first_failure(ENGINE), ENGINE, rates[-1]),
    ]
    idle = [s for s in ladder.steps if s.target == DIALPLAN and s.carried]
    if idle:
        spent = max(s.usage()["engine"] for s in idle)
        notes.append(
            f"The engine, idle during the dialplan's steps (it still reads their AMI "
            f"events), used at most {spent:.1%} of a core."
        )
    if profiled is not None:
        found = profiled.profile
        notes.append(
            f"Profile of the engine at {profiled.rate:g} calls/s (py-spy, samples with the "
            "GIL held: the engine's Python work), by part: "
            + (found.summary() if isinstance(found, Profile) else str(found))
        )
    notes.append("Steps: " + " | ".join(s.line() for s in ladder.steps))
    if kept is not None:
        notes.append(f"SIPp files of the failed steps are kept in {kept}.")
    if quick:
        notes.append("Quick run: one rate, no warm-up; the rates are not a saturation.")
    return BenchResult(
        1,
        "IVR throughput through real Asterisk",
        "the same menu as plain Asterisk dialplan (Background/WaitExten/Playback), "
        "same prompts and keys, same run",
        figures,
        notes,
    )
