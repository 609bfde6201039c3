"""Benchmark 2: FastAGI turnaround without Asterisk, the engine against bare panoramisk.

    .venv/bin/python -m bench --only 2 [--quick]

Method. A load generator (:mod:`bench.agi_load`) plays Asterisk in a process of its own,
pinned to one core, while the server under test runs in this process on the other core.
Each call sends the AGI environment of a call to 10086, then answers the ten commands of
a balance query (ANSWER, SET VARIABLE, GET VARIABLE, two STREAM FILEs with escape digits,
the second one pressed ``1``, GET DATA of a six-digit password, SAY NUMBER, EXEC Playback,
SET VARIABLE, HANGUP) with ``200 result=...`` lines. A command out of order fails the call.

- The engine: ``FastAgiServer`` with the engine's metrics, routing ``hotline`` to the
  ``CallRunner`` (journal record, every command journalled as a step; the journal writer
  runs, its database is left out: that is benchmark 1's), whose flow sends the ten
  commands through the typed ``AgiSession`` calls.
- The baseline: ``panoramisk.fast_agi.Application`` with a coroutine handler sending the
  same ten lines with ``send_command``. The generator sends it no unsolicited ``HANGUP``
  line (panoramisk reads every later reply one line late after one).
- The floor, for scale: a bare asyncio protocol that writes the next of the ten lines
  whenever a reply line comes (no task, timeout, parsing, journal or metrics): the most
  any server on this event loop can do.

Every server gets the same treatment as the engine once started (``ivr_engine/app.py``):
a full collection, then the heap so far frozen out of the cycle collector's passes.

Three loads, engine and baseline (and, in the closed loops, the floor below) rounds taken
in turn, the same calls for all:

- closed loop, 50 and 500 calls at once: each reply goes out as soon as its command
  arrives, so the figure is the most calls a second the server can take. Best of rounds.
- paced, 500 calls at once, every reply after a random "playing" time (exponential), so
  that the calls offered come at ten times benchmark 1's busy-hour rate (40 calls/s): the
  turnaround target is read here.

Turnaround is the time from the generator writing a reply to reading the next command:
what the server adds to each step of a call. Percentiles are nearest-rank over every
recorded sample of a round's measured calls (warm-up calls not recorded); the table gives
the median round's. Server CPU per call (this process's CPU time over the calls served)
is the figure least disturbed by other programs on a shared machine.

Targets: p99 turnaround at most 5 ms with 500 calls at once (paced load); calls a second
at least twice bare panoramisk's (closed loop, 50 and 500). In a closed loop every call
always has a command or a reply in flight, so the mean time per step is fixed by the
number of calls over the rate (Little's law: 500 calls at 20,000 commands/s is 25 ms);
the closed-loop turnarounds are given for comparison, with no target.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from array import array
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from panoramisk.fast_agi import Application, Request

from bench.agi_load import COMMANDS, ROUTE, SCRIPT
from bench.latency import Spread
from bench.result import BenchResult, Figure
from ivr_engine.agi.server import FastAgiServer
from ivr_engine.calls.call import ALL_KEYS, Call, Flow
from ivr_engine.calls.runner import CallRunner
from ivr_engine.journal import CallRecord, JournalWriter
from ivr_engine.metrics.engine import EngineMetrics
from ivr_engine.settings import AgiSettings

ROOT = Path(__file__).resolve().parent.parent
BUSY_HOUR_CALLS_PER_S = 40.0  # benchmark 1's peak
PACED_FACTOR = 10.0
TURNAROUND_TARGET_MS = 5.0
SPEED_FACTOR = 2.0


@dataclass(frozen=True)
class Load:
    label: str
    concurrency: int
    calls: int
    warmup: int
    rounds: int
    think_ms: float = 0.0


@dataclass
class Outcome:
    """One server's rounds under one load."""

    rates: list[float] = field(default_factory=list)  # calls/s, by round
    cpu_us: list[float] = field(default_factory=list)  # server CPU per call, by round
    rounds: list[Spread] = field(default_factory=list)  # turnaround (ms), by round
    samples: array[float] = field(default_factory=lambda: array("d"))  # turnaround (s)
    setup_samples: array[float] = field(default_factory=lambda: array("d"))
    completed: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return max(self.rates)

    @property
    def p50(self) -> float:
        """The median round's p50 turnaround (one noisy round moves it little)."""
        return statistics.median(r.p50 for r in self.rounds)

    @property
    def p99(self) -> float:
        return statistics.median(r.p99 for r in self.rounds)

    @functools.cached_property
    def turnaround(self) -> Spread:
        """Every round's samples together, in ms."""
        return Spread.of(self.samples).scaled(1000)

    @functools.cached_property
    def setup(self) -> Spread:
        return Spread.of(self.setup_samples).scaled(1000)


# -- the two servers ------------------------------------------------------------------------


class _DiscardedRecords:
    """The journal's store, without a database (the journal's cost is benchmark 1's)."""

    def __init__(self) -> None:
        self.saved = 0

    async def save(self, record: CallRecord) -> None:
        self.saved += 1


async def balance_query(call: Call) -> None:
    """The engine's flow of one call: the same commands as :data:`bench.agi_load.SCRIPT`."""
    session = call.session
    await session.answer()
    await session.set_variable("CHANNEL(language)", "zh")
    await session.get_variable("CALLERID(name)")
    await session.stream_file("hotline/welcome", ALL_KEYS)
    key = await session.stream_file("hotline/main-menu", ALL_KEYS)
    call.pressed(key or "")
    call.masked = True
    await session.get_data("hotline/enter-password", 5000, 6)
    call.masked = False
    await session.say_number(8650, ALL_KEYS)
    await session.exec("Playback", "hotline/goodbye")
    call.outcome("balance-read")
    await session.set_variable("IVR_RESULT", "completed")
    await session.hangup()


@contextlib.asynccontextmanager
async def engine_server() -> AsyncIterator[int]:
    settings = AgiSettings(host="127.0.0.1", port=0, command_timeout=10.0, header_timeout=5.0)
    journal = JournalWriter(_DiscardedRecords())
    journal.start()
    flows: dict[str, Flow] = {"10086": balance_query}
    runner = CallRunner(flows.get, journal, instance="bench")
    server = FastAgiServer(settings, {ROUTE: runner}, metrics=EngineMetrics())
    await server.start()
    try:
        yield server.port
    finally:
        await server.stop(grace=1.0)
        await journal.close()


async def _panoramisk_call(request: Request) -> None:
    for command, _ in SCRIPT:
        await request.send_command(command)


@contextlib.asynccontextmanager
async def panoramisk_server() -> AsyncIterator[int]:
    app = Application(loop=asyncio.get_running_loop())
    app.add_route(ROUTE, _panoramisk_call)
    server = await asyncio.start_server(app.handler, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 5.0)


class _Floor(asyncio.Protocol):
    """The least a FastAGI server can do on this event loop: no task, no timeout, no
    parsing; it writes the next of the ten lines whenever a reply line arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.step = -1  # -1: reading the header block

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        buffer = self.buffer + data
        if self.step < 0:
            end = buffer.find(b"\n\n")
            if end < 0:
                self.buffer = buffer
                return
            buffer, self.step = buffer[end + 2 :], 0
            self.transport.write(_FLOOR_LINES[0])
        while (end := buffer.find(b"\n")) >= 0:
            buffer = buffer[end + 1 :]
            self.step += 1
            if self.step == COMMANDS:
                self.transport.close()
                return
            self.transport.write(_FLOOR_LINES[self.step])
        self.buffer = buffer


_FLOOR_LINES = tuple(command.encode() + b"\n" for command, _ in SCRIPT)


@contextlib.asynccontextmanager
async def floor_server() -> AsyncIterator[int]:
    server = await asyncio.get_running_loop().create_server(_Floor, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 5.0)


Server = Callable[[], contextlib.AbstractAsyncContextManager[int]]


# -- driving the generator ------------------------------------------------------------------


def _cpus() -> tuple[set[int] | None, int | None]:
    """(this process's CPUs, the generator's CPU): one core each when there are two."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    mine = sorted(os.sched_getaffinity(0))
    if len(mine) < 2:
        return None, None
    return set(mine[:-1]), mine[-1]


async def _generate(port: int, load: Load, cpu: int | None, folder: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.agi_load",
        f"--port={port}",
        f"--sessions={load.calls}",
        f"--concurrency={load.concurrency}",
        f"--warmup={load.warmup}",
        f"--think-ms={load.think_ms}",
        f"--out={folder}",
    ]
    if cpu is not None:
        command.append(f"--cpu={cpu}")
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=900)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed: {err.decode()[-2000:]}")
    report: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return report


def _samples(path: Path) -> array[float]:
    samples = array("d")
    samples.frombytes(path.read_bytes())
    return samples


async def measure_round(server: Server, load: Load, cpu: int | None, into: Outcome) -> None:
    """One round of ``load`` on ``server``, added to ``into``."""
    with tempfile.TemporaryDirectory(prefix="agi-load-") as tmp:
        async with server() as port:
            # As the engine does once started (ivr_engine/app.py): the heap so far out of
            # the cycle collector's passes. The same for every server measured.
            gc.collect()
            gc.freeze()
            started = time.process_time()
            try:
                report = await _generate(port, load, cpu, Path(tmp))
            finally:
                used = time.process_time() - started
                gc.unfreeze()
        samples = _samples(Path(tmp) / "turnaround.f64")
        into.rounds.append(Spread.of(samples).scaled(1000))
        into.samples.extend(samples)
        into.setup_samples.extend(_samples(Path(tmp) / "setup.f64"))
    into.completed += int(report["completed"])
    into.failed += int(report["failed"])
    into.problems += list(report["problems"])[: max(0, 3 - len(into.problems))]
    into.rates.append((load.calls - 1) / float(report["elapsed"]))
    into.cpu_us.append(used / max(int(report["calls"]), 1) * 1e6)


def loads(quick: bool) -> tuple[Load, Load, Load]:
    offered = BUSY_HOUR_CALLS_PER_S * PACED_FACTOR
    # 500 calls open at once, offered at ``offered`` calls/s: each call lasts 500/offered s,
    # spent in ten "playing" waits.
    think_ms = 500 / offered / COMMANDS * 1000
    if quick:
        return (
            Load("50 calls at once, closed loop", 50, 1_000, 200, 1),
            Load("500 calls at once, closed loop", 500, 2_000, 500, 1),
            Load(f"500 calls at once, {offered:.0f} calls/s", 500, 1_500, 500, 1, think_ms),
        )
    return (
        Load("50 calls at once, closed loop", 50, 6_000, 1_000, 3),
        Load("500 calls at once, closed loop", 500, 10_000, 1_500, 3),
        Load(f"500 calls at once, {offered:.0f} calls/s", 500, 4_000, 1_000, 3, think_ms),
    )


@dataclass
class Measured:
    load: Load
    engine: Outcome
    bare: Outcome
    floor: Outcome | None  # closed loops only


async def run(quick: bool) -> BenchResult:
    mine, theirs = _cpus()
    before = os.sched_getaffinity(0) if mine is not None else None
    if mine is not None:
        os.sched_setaffinity(0, mine)
    try:
        results: list[Measured] = []
        for load in loads(quick):
            m = Measured(load, Outcome(), Outcome(), None if load.think_ms else Outcome())
            servers = [(engine_server, m.engine), (panoramisk_server, m.bare)]
            if m.floor is not None:
                servers.append((floor_server, m.floor))
            for _ in range(load.rounds):  # in turn, so that other programs hit all alike
                for server, outcome in servers:
                    await measure_round(server, load, theirs, outcome)
            results.append(m)
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)
    return _result(results, quick)


def _result(results: list[Measured], quick: bool) -> BenchResult:
    figures: list[Figure] = []
    notes: list[str] = []
    paced = results[-1]
    for m in results[:-1]:
        figures.append(
            Figure(
                f"calls/s, {m.load.label}",
                m.engine.rate,
                "calls/s",
                target=f">= {SPEED_FACTOR:g}x baseline",
                met=m.engine.rate >= SPEED_FACTOR * m.bare.rate,
                baseline=m.bare.rate,
            )
        )
    for m in results:
        figures.append(
            Figure(
                f"server CPU per call, {m.load.label}",
                statistics.median(m.engine.cpu_us),
                "us",
                baseline=statistics.median(m.bare.cpu_us),
            )
        )
    for m in results:
        target = m is paced
        figures.append(
            Figure(
                f"turnaround p50, {m.load.label}",
                m.engine.p50,
                "ms",
                baseline=m.bare.p50,
            )
        )
        figures.append(
            Figure(
                f"turnaround p99, {m.load.label}",
                m.engine.p99,
                "ms",
                target=f"<= {TURNAROUND_TARGET_MS:g} ms" if target else "",
                met=m.engine.p99 <= TURNAROUND_TARGET_MS if target else None,
                baseline=m.bare.p99,
            )
        )
    failed_engine = sum(m.engine.failed for m in results)
    failed_bare = sum(m.bare.failed for m in results)
    figures.append(
        Figure(
            "failed calls",
            failed_engine,
            "",
            target="0",
            met=failed_engine == 0,
            baseline=failed_bare,
        )
    )
    notes.append(
        "Method: a FastAGI load generator (bench/agi_load.py) in its own process on its own "
        "core plays Asterisk for a ten-command balance query; the engine's FastAgiServer "
        "(metrics on, CallRunner journalling each command) and bare panoramisk's "
        "fast_agi.Application serve the same calls in the same run."
    )
    notes.append(
        "Turnaround: from the generator writing a reply to reading the next command; "
        "nearest-rank percentiles over every step of a round's measured calls, the median "
        "round's figure in the table (all rounds' samples together below). Calls/s: calls "
        "started a second while the measured calls ran (calls are always open, so that is "
        "the rate they end at), best of the rounds. Server CPU per call: this process's CPU "
        "time over all calls served, warm-up included (median of the rounds); the least "
        "noisy figure on a shared machine."
    )
    offered = BUSY_HOUR_CALLS_PER_S * PACED_FACTOR
    notes.append(
        f"Paced load: 500 calls open at once, each reply delayed by a random playing time "
        f"(exponential, mean {paced.load.think_ms:.0f} ms), i.e. {offered:.0f} calls/s "
        f"offered, {PACED_FACTOR:g} times benchmark 1's busy hour of "
        f"{BUSY_HOUR_CALLS_PER_S:g} calls/s (an assumption: BUSY_HOUR_CALLS_PER_S in "
        "bench/fastagi_turnaround.py); the 5 ms target is read there."
    )
    notes.append(
        "Closed loop: replies go out at once, so the server is saturated and each step waits "
        "behind every other call's (Little's law: mean time per step = calls at once / "
        "commands per second); those turnarounds have no target."
    )
    for m in results:
        notes.append(
            f"{m.load.label}: engine {m.engine.completed:,} calls "
            f"({', '.join(f'{r:,.0f}' for r in m.engine.rates)} calls/s; p99 by round "
            f"{', '.join(f'{r.p99:.3g}' for r in m.engine.rounds)} ms), turnaround "
            f"{m.engine.turnaround.describe('ms')}; setup (connect to first command) "
            f"p99 {m.engine.setup.p99:.3g} ms. panoramisk {m.bare.completed:,} calls "
            f"({', '.join(f'{r:,.0f}' for r in m.bare.rates)} calls/s; p99 by round "
            f"{', '.join(f'{r.p99:.3g}' for r in m.bare.rounds)} ms), turnaround "
            f"{m.bare.turnaround.describe('ms')}; setup p99 {m.bare.setup.p99:.3g} ms."
        )
        for problem in m.engine.problems + m.bare.problems:
            notes.append(f"{m.load.label}: {problem}")
    floors = [m for m in results if m.floor is not None]
    for m in floors:
        assert m.floor is not None
        notes.append(
            f"{m.load.label}: the event loop's floor, a protocol that only writes the ten "
            f"lines (no task, timeout, parsing, journal or metrics), did "
            f"{m.floor.rate:,.0f} calls/s at {statistics.median(m.floor.cpu_us):.0f} us of "
            f"CPU per call: {m.floor.rate / m.bare.rate:.2f}x panoramisk. Twice panoramisk "
            f"({SPEED_FACTOR * m.bare.rate:,.0f} calls/s) is beyond what this event loop can "
            "do on one core with any code on top of it."
        )
    notes += PROFILE_NOTES
    best = max(m.engine.rate for m in results[:-1])
    notes.append(
        f"Headroom: the engine's best closed-loop rate, {best:,.0f} calls/s on one core, is "
        f"{best / BUSY_HOUR_CALLS_PER_S:.0f} times benchmark 1's busy hour of "
        f"{BUSY_HOUR_CALLS_PER_S:g} calls/s."
    )
    if quick:
        notes.append("Quick run: short loads, one round each; not the figures of record.")
    return BenchResult(
        2,
        "FastAGI turnaround without Asterisk",
        "bare panoramisk fast_agi.Application with trivial coroutine handlers, same calls, "
        "same run",
        figures,
        notes,
    )


# What profiling found (py-spy and cProfile of the engine serving the closed loop), what
# was fixed, and what the engine still spends its time on: the reason the calls/s target
# is missed.
PROFILE_NOTES = [
    "Profile, before: two asyncio.timeout() contexts per command (timer handles in the "
    "loop's heap), header lines read one readuntil() each, a task per connection even for "
    "refused ones, wait_for(wait_closed()) (one more task) per call, prometheus labels() "
    "with its lock per command, and a reference cycle session -> journal observer -> "
    "session that left every finished call to the cycle collector: full passes of up to "
    "200 ms over a heap that grew by some 40,000 objects a second. 620 us of CPU per call "
    "against panoramisk's 190.",
    "Fixed in the engine: one deadline timer per session, moved only when a command needs "
    "an earlier one; the header block read whole from the socket's data by the "
    "connection's protocol (no task until it is valid); one-line replies parsed in the "
    "session without further awaits; the writer closed without waiting; the histogram "
    "series and verbs cached; the observer cycle broken; the journal's command split "
    "cached; and the engine freezes its start-up heap once started, so the cycle "
    "collector walks only what calls create.",
    "Still spent (py-spy, closed loop, share of the process's busy time): the socket "
    "writes and reads through asyncio's transport, system calls included, over a quarter; "
    "the journal step of every command (its text, the privacy scrubbing of that text, a "
    "timestamped step) about an eighth, a fifth of the session's own time; resuming the "
    "chain of typed-command coroutines, the reply parse, the trace record and the metrics "
    "histogram; per call, accepting the connection, the header block and the session's "
    "task. All of it but the transport is what the engine does and bare panoramisk does "
    "not (journal, privacy, metrics, timeouts, hang-up detection), so the engine stays "
    "below panoramisk's calls/s on one core (see the CPU per call). The floor above shows "
    "the target out of reach for any server on this event loop; the engine's headroom "
    "is better read against the hotline (next note).",
]
