"""Benchmark 6: AMI event intake, the engine's AMI link against raw panoramisk.

    .venv/bin/python -m bench --only 6 [--quick]

Method. A fake Asterisk manager interface (:mod:`bench.ami_blast`) runs in a process of
its own, pinned to one core, and writes call events over TCP: Newchannel, Newexten,
DeviceStateChange, AGIExecStart and Hangup with Asterisk 22's headers, 60 to a call, every
fifth caller with a Chinese name. This process reads them on the other core, with a
registered handler for each of the five event names, through:

- the engine: ``AmiLink`` (supervised panoramisk session: login, event filter, pings,
  its incremental UTF-8 decoding of the stream), with ``on_event`` handlers;
- the baseline: a raw ``panoramisk.Manager`` on the same stream, ``register_event``
  handlers, nothing else.

The handler is the same for both: it counts the event, checks the caller name of the
calls with a Chinese name, and records the lag, ``time.monotonic()`` when it runs minus
the event's ``Timestamp`` header, the server's ``time.monotonic()`` when it wrote the
event (one clock for every process of the machine).

Two loads, after a warm-up round each; engine and baseline rounds taken in turn:

- flat out: the server writes as fast as the reader takes them; events a second is the
  count over the time from the first to the last event handled (best of rounds), and CPU
  time per event (this process, all of it);
- paced: five times benchmark 1's peak event rate, by default 40 calls/s x 60 AMI
  events a call x 5 = 12,000 events/s (an assumption, a parameter: ``PEAK_CALLS_PER_S``,
  ``EVENTS_PER_CALL``), in rounds of some seconds; the handler lag percentiles are read
  there (nearest rank over every event after a round's first second; the median round's
  figure, so that one round disturbed by another program moves it little).

Targets: at least 20,000 events/s handled flat out; handler lag p99 at most 100 ms at
five times the peak rate. Events with a damaged caller name are counted too (the engine's
decoding keeps multibyte characters split across TCP chunks; panoramisk's drops them).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import statistics
import sys
import time
from array import array
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from panoramisk import Manager
from panoramisk.message import Message
from pydantic import SecretStr

from bench.ami_blast import CHINESE_NAME
from bench.latency import Spread
from bench.result import BenchResult, Figure
from ivr_engine.ami.link import AmiLink
from ivr_engine.settings import AmiSettings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENT_NAMES = ("Newchannel", "Newexten", "DeviceStateChange", "AGIExecStart", "Hangup")
PEAK_CALLS_PER_S = 40.0  # benchmark 1's peak (assumed)
EVENTS_PER_CALL = 60  # AMI events of one hotline call (assumed)
RATE_FACTOR = 5.0
INTAKE_TARGET = 20_000.0  # events/s
LAG_TARGET_MS = 100.0
SECRET = "bench"
WARM_SECONDS = 1.0  # lag samples of the paced run's first second are left out


@dataclass
class Intake:
    """What the handler saw."""

    expected: int
    count: int = 0
    damaged: int = 0
    first: float = 0.0
    last: float = 0.0
    sent_first: float = 0.0
    lags: array[float] = field(default_factory=lambda: array("d"))
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def handle(self, event: Message) -> None:
        now = time.monotonic()
        sent = float(event["Timestamp"])
        if self.count == 0:
            self.first, self.sent_first = now, sent
        self.count += 1
        self.last = now
        if sent - self.sent_first >= WARM_SECONDS:
            self.lags.append(now - sent)
        name = event.get("CallerIDName")
        if name is not None and name != CHINESE_NAME and not name.isdigit():
            self.damaged += 1  # a character lost or mangled on the way
        if self.count >= self.expected and not self.done.done():
            self.done.set_result(None)


@dataclass
class Round:
    rate: float  # events/s from the first to the last handled
    cpu_us: float  # CPU time per event in this process
    lag: Spread  # ms
    damaged: int
    count: int


# -- the two readers --------------------------------------------------------------------------

Reader = Callable[
    [int, Intake], contextlib.AbstractAsyncContextManager[Callable[[dict[str, str]], Any]]
]


@contextlib.asynccontextmanager
async def engine_reader(
    port: int, intake: Intake
) -> AsyncIterator[Callable[[dict[str, str]], Any]]:
    settings = AmiSettings(host="127.0.0.1", port=port, username="bench", secret=SecretStr(SECRET))
    link = AmiLink(settings, events=EVENT_NAMES)
    for name in EVENT_NAMES:
        link.on_event(name, intake.handle)
    link.start()
    try:
        if not await link.wait_connected(10.0):
            raise RuntimeError(f"the AMI link did not come up: {link.health()}")
        yield lambda action: link.action(action, timeout=10.0)
    finally:
        await link.stop()


@contextlib.asynccontextmanager
async def panoramisk_reader(
    port: int, intake: Intake
) -> AsyncIterator[Callable[[dict[str, str]], Any]]:
    manager = Manager(
        host="127.0.0.1",
        port=port,
        username="bench",
        secret=SECRET,
        ping_delay=3600,
        loop=asyncio.get_running_loop(),
    )

    def handler(_manager: Any, event: Message) -> None:
        intake.handle(event)

    for name in EVENT_NAMES:
        manager.register_event(name, handler)
    await asyncio.wait_for(manager.connect(), 10.0)
    login = manager.authenticated_future
    if login is not None:
        await asyncio.wait_for(login, 10.0)
    try:
        yield lambda action: asyncio.wait_for(manager.send_action(dict(action)), 10.0)
    finally:
        manager.close()


# -- one run ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def blaster(cpu: int | None) -> AsyncIterator[int]:
    command = [sys.executable, "-m", "bench.ami_blast", f"--secret={SECRET}"]
    if cpu is not None:
        command.append(f"--cpu={cpu}")
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30.0)
        if not line.startswith(b"PORT "):
            raise RuntimeError(f"the AMI blaster did not start: {line!r}")
        yield int(line.split()[1])
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10.0)
        except TimeoutError:
            process.kill()
            await process.wait()


async def one_round(reader: Reader, count: int, rate: float, cpu: int | None) -> Round:
    gc.collect()
    intake = Intake(expected=count)
    async with blaster(cpu) as port, reader(port, intake) as send:
        started = time.process_time()
        await send({"Action": "BenchBlast", "Count": str(count), "Rate": f"{rate:g}"})
        expected_s = count / rate if rate > 0 else count / 5_000
        with contextlib.suppress(TimeoutError):  # what is missing is reported as such
            await asyncio.wait_for(asyncio.shield(intake.done), expected_s * 3 + 30)
        used = time.process_time() - started
    span = intake.last - intake.first
    return Round(
        rate=(intake.count - 1) / span if span > 0 else float("nan"),
        cpu_us=used / max(intake.count, 1) * 1e6,
        lag=Spread.of(intake.lags).scaled(1000),
        damaged=intake.damaged,
        count=intake.count,
    )


def _cpus() -> tuple[set[int] | None, int | None]:
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    mine = sorted(os.sched_getaffinity(0))
    if len(mine) < 2:
        return None, None
    return set(mine[:-1]), mine[-1]


@dataclass
class Side:
    flat: list[Round]
    paced: list[Round]

    @property
    def best(self) -> Round:
        return max(self.flat, key=lambda r: r.rate)

    @property
    def lag_p50(self) -> float:
        """The median paced round's p50 lag (one noisy round moves it little)."""
        return statistics.median(r.lag.p50 for r in self.paced)

    @property
    def lag_p99(self) -> float:
        return statistics.median(r.lag.p99 for r in self.paced)

    def lost(self, flat_count: int, paced_count: int) -> int:
        return sum(flat_count - r.count for r in self.flat) + sum(
            paced_count - r.count for r in self.paced
        )

    @property
    def damaged(self) -> int:
        return sum(r.damaged for r in self.flat + self.paced)


WARM_EVENTS = 20_000  # a first, unrecorded round for each reader


async def measure(
    flat_count: int, rounds: int, paced_s: float, rate: float, cpu: int | None
) -> tuple[Side, Side]:
    """(engine, baseline): a warm-up round each, then their rounds taken in turn, so that
    whatever else the machine does falls on both alike."""
    engine, bare = Side([], []), Side([], [])
    sides = ((engine_reader, engine), (panoramisk_reader, bare))
    for reader, _ in sides:
        await one_round(reader, WARM_EVENTS, 0, cpu)
    for _ in range(rounds):
        for reader, side in sides:
            side.flat.append(await one_round(reader, flat_count, 0, cpu))
    for _ in range(rounds):
        for reader, side in sides:
            side.paced.append(await one_round(reader, int(rate * paced_s), rate, cpu))
    return engine, bare


async def run(quick: bool) -> BenchResult:
    rate = PEAK_CALLS_PER_S * EVENTS_PER_CALL * RATE_FACTOR
    flat_count, rounds, paced_s = (30_000, 1, 3.0) if quick else (200_000, 3, 8.0)
    mine, theirs = _cpus()
    before = os.sched_getaffinity(0) if mine is not None else None
    if mine is not None:
        os.sched_setaffinity(0, mine)
    try:
        engine, bare = await measure(flat_count, rounds, paced_s, rate, theirs)
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)
    return _result(engine, bare, rate, flat_count, paced_s, quick)


def _result(
    engine: Side, bare: Side, rate: float, flat_count: int, paced_s: float, quick: bool
) -> BenchResult:
    e, b = engine.best, bare.best
    figures = [
        Figure(
            "events/s handled, flat out",
            e.rate,
            "events/s",
            target=f">= {INTAKE_TARGET:,.0f}",
            met=e.rate >= INTAKE_TARGET,
            baseline=b.rate,
        ),
        Figure("CPU time per event, flat out", e.cpu_us, "us", baseline=b.cpu_us),
        Figure(
            f"handler lag p50 at {rate:,.0f} events/s",
            engine.lag_p50,
            "ms",
            baseline=bare.lag_p50,
        ),
        Figure(
            f"handler lag p99 at {rate:,.0f} events/s",
            engine.lag_p99,
            "ms",
            target=f"<= {LAG_TARGET_MS:g} ms",
            met=engine.lag_p99 <= LAG_TARGET_MS,
            baseline=bare.lag_p99,
        ),
    ]
    lost_e = engine.lost(flat_count, int(rate * paced_s))
    lost_b = bare.lost(flat_count, int(rate * paced_s))
    figures.append(
        Figure("events not handled", lost_e, "", target="0", met=lost_e == 0, baseline=lost_b)
    )
    figures.append(
        Figure(
            "events with a damaged caller name",
            engine.damaged,
            "",
            target="0",
            met=engine.damaged == 0,
            baseline=bare.damaged,
        )
    )
    notes = [
        "Method: a fake AMI server (bench/ami_blast.py) in its own process on its own core "
        "writes Newchannel, Newexten, DeviceStateChange, AGIExecStart and Hangup events with "
        "Asterisk 22's headers (60 to a call, every fifth caller named in Chinese) to the "
        "engine's AmiLink and to a raw panoramisk Manager, one after the other in the same "
        "run, each with a handler on the five event names.",
        f"Flat out: {flat_count:,} events as fast as the reader takes them, best of "
        f"{len(engine.flat)} round(s): engine "
        + ", ".join(f"{r.rate:,.0f}" for r in engine.flat)
        + " events/s, panoramisk "
        + ", ".join(f"{r.rate:,.0f}" for r in bare.flat)
        + " events/s.",
        f"Paced: {rate:,.0f} events/s for {paced_s:g} s = {PEAK_CALLS_PER_S:g} calls/s "
        f"(benchmark 1's peak, assumed) x {EVENTS_PER_CALL} AMI events a call (assumed) x "
        f"{RATE_FACTOR:g}; parameters PEAK_CALLS_PER_S and EVENTS_PER_CALL in "
        "bench/ami_intake.py. Lag = handler's time.monotonic() minus the Timestamp header "
        "the server wrote (the same clock in both processes); the first second is warm-up.",
        f"Paced, {len(engine.paced)} round(s) each, the median round's figure in the table. "
        "Engine lag by round: "
        + "; ".join(r.lag.describe("ms") for r in engine.paced)
        + ". Panoramisk lag by round: "
        + "; ".join(r.lag.describe("ms") for r in bare.paced)
        + ".",
    ]
    if quick:
        notes.append("Quick run: short loads, one round each; not the figures of record.")
    return BenchResult(
        6,
        "AMI event intake",
        "raw panoramisk Manager (no engine wrapper) on the same event stream, same run",
        figures,
        notes,
    )


if __name__ == "__main__":
    print(asyncio.run(run("--quick" in sys.argv)).table())
