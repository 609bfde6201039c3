"""One step of SIPp load: ``calls`` calls at ``rate`` calls a second into one number, every
call playing the same keys and hanging up after the same time (testbed/sipp/load_caller.xml),
each from the next calling number of ``callers`` (an injection file, read in order).

One SIPp process places all of a step's calls (``-r``/``-m``/``-l``); its statistics file
(``-trace_stat``, one row a second) gives the calls created, successful and failed over
time, so a step also tells whether SIPp kept the rate. Message traces stay off; only
unexpected messages are logged. SIPp's own CPU time comes from ``wait4``.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import re
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from testbed.dtmf_pcap import write_dtmf_pcap
from testbed.ports import LOCAL_IP, release_ports, reserve_ports
from testbed.sipp_call import SIPP_BINARY

SCENARIO = Path(__file__).resolve().parent.parent / "sipp" / "load_caller.xml"
KEY_SECONDS = 0.1  # how long each key is held


@dataclass(frozen=True)
class LoadStep:
    dialled: str
    callers: Sequence[str]  # one per call, in order
    rate: float  # calls a second
    calls: int
    keys: Sequence[tuple[float, str]]  # (seconds after the answer, key)
    listen: float  # seconds on the line after the answer
    answer_timeout: float = 10.0


@dataclass
class LoadOutcome:
    step: LoadStep
    returncode: int | None
    created: int = 0
    successful: int = 0
    failed: int = 0
    started: float = 0.0  # time.monotonic() when SIPp was started
    ended: float = 0.0
    arrivals_seconds: float | None = None  # from start until the last call was created
    sipp_cpu: float = 0.0  # SIPp's user + system seconds
    errors: str = ""
    refusals: dict[int, int] = field(default_factory=dict)  # final error status -> calls
    most_at_once: int = 0  # the most calls up at once (a statistics row a second)
    workdir: Path | None = None
    rows: list[dict[str, str]] = field(default_factory=list)

    @property
    def kept_rate(self) -> bool:
        """Whether SIPp created the calls at the asked rate (within a 1 s statistics row and
        a 10 % margin)."""
        wanted = self.step.calls / self.step.rate
        return self.arrivals_seconds is not None and self.arrivals_seconds <= wanted * 1.1 + 1.5

    @property
    def all_successful(self) -> bool:
        return (
            self.returncode == 0
            and self.failed == 0
            and self.successful == self.step.calls
            and self.created == self.step.calls
        )


def _prepare(workdir: Path, step: LoadStep) -> tuple[Path, Path]:
    """The step's directory with its scenario, key pcap and calling numbers."""
    if len(step.callers) < step.calls:
        raise ValueError(f"{step.calls} calls but {len(step.callers)} calling numbers")
    workdir.mkdir(parents=True, exist_ok=True)
    pcap = workdir / "keys.pcap"
    write_dtmf_pcap(pcap, step.keys, event_duration=KEY_SECONDS)
    lines = ["SEQUENTIAL", *(f"{number};" for number in step.callers[: step.calls])]
    (workdir / "callers.csv").write_text("\n".join(lines) + "\n", encoding="ascii")
    return _render(workdir, step), pcap


def _render(workdir: Path, step: LoadStep) -> Path:
    text = SCENARIO.read_text(encoding="iso-8859-1")
    text = text.replace("@@LISTEN_MS@@", str(round(step.listen * 1000)))
    text = text.replace("@@ANSWER_MS@@", str(round(step.answer_timeout * 1000)))
    target = workdir / SCENARIO.name
    target.write_text(text, encoding="iso-8859-1")
    return target


def _read_stats(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [
            {k.strip(): (v or "").strip() for k, v in row.items() if k}
            for row in csv.DictReader(handle, delimiter=";")
        ]


def _seconds(elapsed: str) -> float:
    """SIPp's 'HH:MM:SS:mmm000' elapsed time in seconds."""
    parts = elapsed.split(":")
    hours, minutes, seconds = int(parts[0]), int(parts[1]), int(parts[2])
    fraction = int(parts[3][:3]) / 1000 if len(parts) > 3 else 0.0
    return hours * 3600 + minutes * 60 + seconds + fraction


def _count(row: dict[str, str], name: str) -> int:
    value = row.get(name, "0") or "0"
    return int(value) if value.isdigit() else 0


def summarise(outcome: LoadOutcome, rows: list[dict[str, str]]) -> None:
    outcome.rows = rows
    if not rows:
        return
    last = rows[-1]
    outcome.created = _count(last, "TotalCallCreated")
    outcome.successful = _count(last, "SuccessfulCall(C)")
    outcome.failed = _count(last, "FailedCall(C)")
    outcome.most_at_once = max(_count(row, "CurrentCall") for row in rows)
    for row in rows:
        if _count(row, "TotalCallCreated") >= outcome.step.calls:
            outcome.arrivals_seconds = _seconds(row.get("ElapsedTime(C)", "0:0:0"))
            break


async def run_step(
    step: LoadStep, workdir: Path, on_start: Callable[[int], None] | None = None
) -> LoadOutcome:
    """Run one step to its end (every call hung up), killing SIPp if it overruns.
    ``on_start`` gets SIPp's pid once it runs."""
    scenario, pcap = await asyncio.to_thread(_prepare, workdir, step)
    stats = workdir / "stats.csv"
    errors = workdir / "errors.log"
    sip_port = reserve_ports(1)
    media_port = reserve_ports(4, even=True)
    # Every call arrives in calls/rate seconds and lasts about answer + listen.
    budget = step.calls / step.rate + step.answer_timeout + step.listen + 30
    limit = max(50, round(step.rate * (step.listen + step.answer_timeout) * 2))
    args = [
        SIPP_BINARY, f"{LOCAL_IP}:5060",
        "-sf", str(scenario),
        "-inf", str(workdir / "callers.csv"),
        "-key", "dialled", step.dialled,
        "-key", "pcap", str(pcap),
        "-i", LOCAL_IP, "-p", str(sip_port),
        "-mi", LOCAL_IP, "-mp", str(media_port),
        "-r", f"{step.rate:g}", "-rp", "1000",
        "-m", str(step.calls),
        "-l", str(limit),
        "-nostdin",
        "-trace_stat", "-stf", str(stats), "-fd", "1",
        "-trace_err", "-error_file", str(errors),
        "-timeout", f"{round(budget)}s", "-timeout_error",
    ]  # fmt: skip
    outcome = LoadOutcome(step, None, workdir=workdir)
    try:
        proc = await asyncio.to_thread(_spawn, args, workdir)
        outcome.started = time.monotonic()
        if on_start is not None:
            on_start(proc.pid)
        try:
            status, usage = await _wait(proc, budget + 15)
        except BaseException:
            _kill(proc)
            with contextlib.suppress(ChildProcessError, subprocess.TimeoutExpired):
                proc.wait(5)  # SIGKILLed: reaped at once
            raise
        outcome.ended = time.monotonic()
        outcome.returncode = os.waitstatus_to_exitcode(status)
        proc.returncode = outcome.returncode
        outcome.sipp_cpu = usage.ru_utime + usage.ru_stime
    finally:
        release_ports(sip_port)
        release_ports(media_port, 4)
    summarise(outcome, await asyncio.to_thread(_read_stats, stats))
    if errors.exists():
        text = await asyncio.to_thread(errors.read_text, errors="replace")
        outcome.errors = text[-4000:]
        outcome.refusals = refusals(text)
    return outcome


_REFUSAL = re.compile(r"received 'SIP/2\.0 ([4-6]\d\d) ")


def refusals(errors: str) -> dict[int, int]:
    """Final error responses SIPp logged as unexpected (a refused INVITE), by status."""
    found: dict[int, int] = {}
    for match in _REFUSAL.finditer(errors):
        status = int(match.group(1))
        found[status] = found.get(status, 0) + 1
    return found


def _spawn(args: list[str], workdir: Path) -> subprocess.Popen[bytes]:
    with (workdir / "stdout.log").open("wb") as out:
        return subprocess.Popen(
            args,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def _wait(
    proc: subprocess.Popen[bytes], timeout: float
) -> tuple[int, resource.struct_rusage]:
    """Reap SIPp with its resource usage, without blocking the loop; kill it at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)  # noqa: ASYNC222 (never blocks)
        if pid:
            return status, usage
        if time.monotonic() > deadline:
            _kill(proc)
        await asyncio.sleep(0.1)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
