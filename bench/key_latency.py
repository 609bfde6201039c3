"""Benchmark 3: key-to-next-prompt latency, end to end on the wire, engine against plain
dialplan.

What is measured. A caller of our own (testbed/telephony/sip_caller.py: SIP and RTP in this
process, one clock) calls the demo hotline as a GoTone subscriber (a copy of the demo's
13900139000 under a number of its own, see testbed/telephony/hotline_call.py) and sends
two keys as RFC 4733 events, each held 100 ms: 1 during the welcome (to the billing menu:
a menu step through the greeting, two branches and two menus) and 1 during the billing
menu (to the balance: a subscriber-data query, then its read-out). For each key the
latency is the time from the key's first end-of-event packet leaving the caller (the
moment the key is complete: Asterisk acts on the key's end, engine and dialplan alike) to
the arrival of the first RTP packet of the next prompt. The next prompt is recognised by
its audio: every packet Asterisk sends is the prompt file's 20 ms frame encoded in mu-law
(testbed/telephony/g711.py), so the caller knows which prompt, and which frame of it, each
packet carries, leading silence included (testbed/telephony/hearing.py). A key after which
the next prompt never arrives counts as an infinitely late sample. Add the 100 ms the key
is held for a figure measured from the key going down.

The engine takes the call on 10086; the baseline is the same menu as plain dialplan on
20086 (bench/dialplan/hotline_baseline.conf: Background of the welcome and menu, the key's
extension, the next Background or Playback). Probe calls run in rounds, a few to the
engine and as many to the dialplan at once, at staggered starts, so both sides see the
same machine; the first round is a warm-up and is not counted. Then the same again while
SIPp places a busy hour's load, 10 calls/s into each side at once (the benchmarked call of
benchmark 1), probes starting once the load has reached its full number of calls.

Target: p95 at most 150 ms, idle and under load. p50/p95/p99 are nearest-rank
percentiles of all the keys recorded (both kinds of key together; the notes give each).
"""

from __future__ import annotations

import asyncio
import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.latency import Spread
from bench.result import BenchResult, Figure
from bench.telephony.testbed import running_engine, testbed
from testbed.telephony.hearing import PromptIndex, first_after
from testbed.telephony.hotline_call import (
    BASELINE_NUMBER,
    ENGINE_NUMBER,
    KEY_HOLD,
    KEYS,
    LISTEN,
    PRESSES,
    CallerPool,
    add_callers,
    prompt_index,
)
from testbed.telephony.sip_caller import CallResult, SipCaller
from testbed.telephony.sipp_load import LoadOutcome, LoadStep, run_step

TARGET_MS = 150.0
LOAD_RATE = 10.0  # calls/s into each side: a busy hour of the domain's centre
# After each key, the prompt that must follow it.
NEXT = ("cm-billing-menu", "cm-your-balance")
KINDS = ("menu key", "balance key")
HANG_UP = PRESSES[-1].at + KEY_HOLD + 1.5  # long enough to hear the read-out begin
STAGGER = 0.23  # seconds between the starts of a round's calls
ENGINE, DIALPLAN = "engine", "dialplan"


@dataclass
class Samples:
    """Latencies in ms per side and kind of key; a key never followed by its prompt is
    ``inf``."""

    values: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, side: str, kind: str, value: float) -> None:
        self.values.setdefault((side, kind), []).append(value)

    def of(self, side: str, kind: str | None = None) -> list[float]:
        return [
            v for (s, k), values in self.values.items() for v in values
            if s == side and (kind is None or k == kind)
        ]  # fmt: skip


def latencies(index: PromptIndex, call: CallResult) -> list[float]:
    """The call's key-to-next-prompt latencies in ms, in key order (``inf``: not heard)."""
    heard = index.heard(call.packets)
    found: list[float] = []
    for key, prompt in zip(call.keys, NEXT, strict=False):
        stretch = first_after(heard, prompt, key.up)
        found.append(math.inf if stretch is None else (stretch.start - key.up) * 1000)
    found += [math.inf] * (len(NEXT) - len(found))
    return found


async def _probe(caller: str, dialled: str, delay: float) -> CallResult:
    await asyncio.sleep(delay)
    return await SipCaller(caller, dialled).run(PRESSES, HANG_UP)


async def _round(
    index: PromptIndex, pool: CallerPool, per_side: int, samples: Samples | None
) -> None:
    """``per_side`` calls to each side at once, starts interleaved."""
    plan = []
    for i in range(per_side):
        plan.append((ENGINE, ENGINE_NUMBER, 2 * i * STAGGER))
        plan.append((DIALPLAN, BASELINE_NUMBER, (2 * i + 1) * STAGGER))
    callers = pool.take(len(plan))
    calls = await asyncio.gather(
        *(
            _probe(caller, number, delay)
            for caller, (_, number, delay) in zip(callers, plan, strict=True)
        )
    )
    if samples is None:
        return
    for (side, _, _), call in zip(plan, calls, strict=True):
        if not call.ok:
            samples.failures.append(f"{side}: {call.error}")
        for kind, value in zip(KINDS, latencies(index, call), strict=True):
            samples.add(side, kind, value)


async def _rounds(
    index: PromptIndex, pool: CallerPool, rounds: int, per_side: int, warm_up: bool = True
) -> Samples:
    samples = Samples()
    if warm_up:
        await _round(index, pool, per_side, None)
    for _ in range(rounds):
        await _round(index, pool, per_side, samples)
    return samples


async def _under_load(
    index: PromptIndex,
    pool: CallerPool,
    rounds: int,
    per_side: int,
    workdir: Path,
    warm_up: bool = True,
) -> tuple[Samples, list[LoadOutcome]]:
    """Probe rounds while SIPp loads both sides at LOAD_RATE each."""
    round_seconds = HANG_UP + 2 * per_side * STAGGER + 1.0
    seconds = LISTEN + 2.0 + (rounds + int(warm_up)) * round_seconds
    calls = round(LOAD_RATE * seconds)
    loads = [
        asyncio.create_task(
            run_step(
                LoadStep(number, pool.take(calls), LOAD_RATE, calls, KEYS, LISTEN),
                workdir / side,
            )
        )
        for side, number in ((ENGINE, ENGINE_NUMBER), (DIALPLAN, BASELINE_NUMBER))
    ]
    try:
        await asyncio.sleep(LISTEN + 1.0)  # until the load has its full number of calls
        samples = await _rounds(index, pool, rounds, per_side, warm_up)
        outcomes = list(await asyncio.gather(*loads))
    finally:
        for task in loads:
            task.cancel()
    return samples, outcomes


async def run(quick: bool) -> BenchResult:
    rounds, per_side = (1, 3) if quick else (25, 4)
    load_rounds = 1 if quick else 20
    index = prompt_index()
    pool = CallerPool()
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-keys-"))

    def prepare(database: Path) -> None:
        add_callers(database, pool.all())

    try:
        async with testbed() as bed, running_engine(workdir / "engine", prepare):
            idle = await _rounds(index, pool, rounds, per_side, not quick)
            await bed.wait_idle()
            loaded, outcomes = await _under_load(
                index, pool, load_rounds, per_side, workdir, not quick
            )
            await bed.wait_idle()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return _result(idle, loaded, outcomes, quick)


def _ms(value: float) -> float:
    return value if math.isfinite(value) else math.nan


def _figures(label: str, samples: Samples) -> list[Figure]:
    engine, dialplan = Spread.of(samples.of(ENGINE)), Spread.of(samples.of(DIALPLAN))
    met = math.isfinite(engine.p95) and engine.p95 <= TARGET_MS
    return [
        Figure(
            f"p50 key to next prompt, {label}", _ms(engine.p50), "ms", baseline=_ms(dialplan.p50)
        ),
        Figure(
            f"p95 key to next prompt, {label}",
            _ms(engine.p95),
            "ms",
            target=f"<= {TARGET_MS:g} ms",
            met=met,
            baseline=_ms(dialplan.p95),
        ),
        Figure(
            f"p99 key to next prompt, {label}", _ms(engine.p99), "ms", baseline=_ms(dialplan.p99)
        ),
    ]


def _detail(label: str, samples: Samples) -> str:
    parts = []
    for side in (ENGINE, DIALPLAN):
        for kind in KINDS:
            s = Spread.of(samples.of(side, kind))
            missed = sum(1 for v in samples.of(side, kind) if not math.isfinite(v))
            parts.append(
                f"{side} {kind}: n={s.count}, p50 {s.p50:.1f} ms, p95 {s.p95:.1f} ms, "
                f"p99 {s.p99:.1f} ms, worst {s.max:.1f} ms"
                + (f", {missed} never followed by the prompt" if missed else "")
            )
    return f"{label}: " + "; ".join(parts) + "."


def _result(
    idle: Samples, loaded: Samples, outcomes: list[LoadOutcome], quick: bool
) -> BenchResult:
    load_label = f"under 2 x {LOAD_RATE:g} calls/s"
    figures = _figures("idle", idle) + _figures(load_label, loaded)
    notes = [
        "Latency: from the key's first end-of-event packet (RFC 4733) leaving the caller to "
        "the first RTP packet of the next prompt arriving, both taken at the caller's "
        "sockets on one clock; the prompt is recognised by its audio bytes. Keys are held "
        f"{KEY_HOLD * 1000:.0f} ms: add that for a figure from the key going down. Engine on "
        "10086, plain dialplan on 20086 (Background/WaitExten to the next "
        "Background/Playback), probe calls to both at once in every round.",
        _detail("Idle", idle),
        _detail(f"Under load ({LOAD_RATE:g} calls/s of SIPp callers into each side)", loaded),
    ]
    for outcome in outcomes:
        if not outcome.all_successful:
            notes.append(
                f"The load into {outcome.step.dialled} did not go through whole: "
                f"{outcome.successful} of {outcome.step.calls} SIPp calls successful."
            )
    failures = idle.failures + loaded.failures
    if failures:
        notes.append(f"{len(failures)} probe call(s) failed, e.g. {failures[0]}.")
    if quick:
        notes.append(
            "Quick run: no warm-up, few samples; p95 and p99 are close to the worst sample."
        )
    return BenchResult(
        3,
        "Key-to-next-prompt latency, end to end",
        "the same key in the same menu as plain Asterisk dialplan, same run",
        figures,
        notes,
    )
