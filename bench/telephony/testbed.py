"""The Asterisk test bed for a benchmark: held under the suite's lock, started if needed
(and stopped again if it was not running), the plain-dialplan baseline installed for the
run only, the engine run as a subprocess, and CPU time read per process.

The test suite and the benchmarks share one Asterisk: a benchmark holds
``/tmp/asterisk-tests.lock`` (``fcntl.flock``, the lock ``flock(1)`` takes around the
integration tests) for as long as it uses Asterisk. Run inside ``flock
/tmp/asterisk-tests.lock ...``, the lock is inherited and used as it is.

The baseline (``bench/dialplan/hotline_baseline.conf``) reaches Asterisk through the line
``#tryinclude bench_baseline.conf`` of ``asterisk/etc/extensions.conf``: it is copied into
the running test bed's configuration directory and loaded with ``dialplan reload``, then
removed and reloaded away after the run. Without the file the include does nothing.

A test bed still running on an older copy of ``asterisk/etc`` (started before the project's
configuration changed) is restarted first, so that every benchmark measures the project's
configuration; it is left running afterwards, as it was found.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from testbed.asterisk import (
    ASTERISK_ROOT,
    asterisk_cli,
    ensure_asterisk_running,
    is_running,
    stop_asterisk,
    unavailable_reason,
)
from testbed.engine import EngineProcess

BENCH = Path(__file__).resolve().parent.parent
BASELINE_SOURCE = BENCH / "dialplan" / "hotline_baseline.conf"
LOCK_PATH = Path("/tmp/asterisk-tests.lock")
ETC = ASTERISK_ROOT / "etc" / "asterisk"
PROJECT_ETC = BENCH.parent / "asterisk" / "etc"
COMPARED = ("extensions.conf", "pjsip.conf", "rtp.conf")  # what the benchmarks depend on
PIDFILE = BENCH.parent / "asterisk" / "run" / "asterisk.pid"
LOCK_WAIT = 3600.0  # the suite's integration runs can take a while
# A Tuesday morning that is no holiday: the menus greet without weekend or holiday wishes.
FIXED_TIME = "2026-03-10T10:00:00+08:00"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class TestbedUnavailable(Exception):
    """The test bed cannot run here (not root, not provisioned, no SIPp)."""

    __test__ = False


def _inherited_lock() -> int | None:
    """A descriptor on the lock file this process inherited (``flock FILE command``)."""
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{name}") == str(LOCK_PATH):
                return int(name)
    return None


async def _lock(wait: float) -> tuple[int, bool]:
    """(descriptor holding the lock, whether we opened it).

    The wait is a blocking ``flock`` in a worker thread, queued in the kernel like
    ``flock(1)``'s (polling would lose the lock to every blocked waiter); a waiter given up
    (timeout, cancellation) lets the lock go at once if it gets it later."""
    inherited = _inherited_lock()
    if inherited is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(inherited, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return inherited, False
    fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd, True
    except BlockingIOError:
        pass
    print(f"waiting for {LOCK_PATH} (another run uses Asterisk)", flush=True)
    guard = threading.Lock()
    state = {"abandoned": False, "held": False}

    def take() -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with guard:
            if state["abandoned"]:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
            else:
                state["held"] = True

    waiter = asyncio.ensure_future(asyncio.to_thread(take))
    try:
        await asyncio.wait_for(asyncio.shield(waiter), wait)
    except BaseException:
        with guard:
            state["abandoned"] = True
            if state["held"]:  # got it just as we gave up
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        raise
    return fd, True


@contextlib.asynccontextmanager
async def asterisk_lock(wait: float = LOCK_WAIT) -> AsyncIterator[None]:
    fd, opened = await _lock(wait)
    try:
        yield
    finally:
        if opened:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def asterisk_pid() -> int:
    pid = int(PIDFILE.read_text().strip())
    if Path(f"/proc/{pid}/comm").read_text().strip() != "asterisk":
        raise RuntimeError(f"pid {pid} in {PIDFILE} is not Asterisk")
    return pid


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def cpu_count() -> int:
    return os.cpu_count() or 1


def _stale() -> list[str]:
    """The configuration files the running test bed has in an older version."""
    stale = []
    for name in COMPARED:
        try:
            if (ETC / name).read_bytes() != (PROJECT_ETC / name).read_bytes():
                stale.append(name)
        except FileNotFoundError:
            stale.append(name)
    return stale


@dataclass
class Testbed:
    """What a benchmark's run found and changed, so that it can put everything back."""

    started_asterisk: bool = False
    restarted_for: list[str] = field(default_factory=list)

    async def cli(self, command: str) -> str:
        return await asyncio.to_thread(asterisk_cli, command)

    async def channels(self) -> int:
        """Active channels on Asterisk now."""
        out = await self.cli("core show channels count")
        for line in out.splitlines():
            if "active channel" in line:
                return int(line.split()[0])
        raise RuntimeError(f"unexpected answer to 'core show channels count': {out!r}")

    async def wait_idle(self, timeout: float = 60.0) -> None:
        """Until no channel is up (the previous step's calls are all gone)."""
        deadline = time.monotonic() + timeout
        while await self.channels():
            if time.monotonic() > deadline:
                shown = await self.cli("core show channels concise")
                raise TimeoutError(f"channels still up after {timeout:.0f} s:\n{shown}")
            await asyncio.sleep(0.5)

    async def install_baseline(self) -> None:
        await asyncio.to_thread(
            (ETC / "bench_baseline.conf").write_text, BASELINE_SOURCE.read_text()
        )
        await self.cli("dialplan reload")
        shown = await self.cli("dialplan show 20086@from-callers")
        if "bench-baseline" not in shown:
            raise RuntimeError(f"the baseline dialplan did not load:\n{shown}")

    async def remove_baseline(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread((ETC / "bench_baseline.conf").unlink)
        await self.cli("dialplan reload")


@contextlib.asynccontextmanager
async def testbed(baseline: bool = True) -> AsyncIterator[Testbed]:
    """The locked, running test bed with the baseline dialplan; left as it was found."""
    reason = unavailable_reason()
    if reason is not None:
        raise TestbedUnavailable(reason)
    async with asterisk_lock():
        bed = Testbed()
        bed.started_asterisk = await asyncio.to_thread(ensure_asterisk_running)
        stale = await asyncio.to_thread(_stale)
        if stale and not bed.started_asterisk:
            print(f"restarting the test bed: its {', '.join(stale)} predate asterisk/etc")
            await asyncio.to_thread(stop_asterisk)
            await asyncio.to_thread(ensure_asterisk_running)
            bed.restarted_for = stale
        try:
            if baseline:
                await bed.install_baseline()
            try:
                yield bed
            finally:
                if baseline:
                    await bed.remove_baseline()
        finally:
            if bed.started_asterisk and await asyncio.to_thread(is_running):
                await asyncio.to_thread(stop_asterisk)


class BenchEngine(EngineProcess):
    """The harness's engine process, logging at INFO (a busy hotline does not log every
    AGI command) and on a fixed weekday morning; ``prepare`` runs on its database after
    the demo data is loaded and before the engine starts (the benchmark's callers)."""

    def __init__(
        self,
        workdir: Path,
        extra_env: Mapping[str, str] | None = None,
        prepare: Callable[[Path], None] | None = None,
    ) -> None:
        self.prepare = prepare
        super().__init__(
            workdir,
            {
                "IVR_ENGINE_CALENDAR__FIXED_TIME": FIXED_TIME,
                "IVR_ENGINE_AGI__SHUTDOWN_GRACE": "5",
                **(extra_env or {}),
            },
            reload_interval=5.0,
        )

    def start(self, timeout: float = 30.0) -> None:
        if self.running:
            return
        if not self.menus_dir.exists():
            self.copy_menus()
        self.load_demo_data()
        if self.prepare is not None:
            self.prepare(self.database_path)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "ivr_engine", "run", "--log-level", "INFO"],
                cwd=BENCH.parent,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"engine exited at start:\n{self.log_tail()}")
            health = self.health()
            if health is not None and health["ami"]["state"] == "connected":
                return
            time.sleep(0.2)
        raise RuntimeError(f"engine not healthy within {timeout}s:\n{self.log_tail()}")


@contextlib.asynccontextmanager
async def running_engine(
    workdir: Path, prepare: Callable[[Path], None] | None = None
) -> AsyncIterator[BenchEngine]:
    engine = BenchEngine(workdir, prepare=prepare)
    await asyncio.to_thread(engine.start)
    try:
        yield engine
    finally:
        await asyncio.to_thread(engine.stop)


@dataclass(frozen=True)
class CpuSample:
    at: float  # time.monotonic()
    cpu: dict[str, float]  # process name -> CPU seconds so far
    busy: float  # the machine's busy CPU seconds so far
    total: float


class CpuSampler:
    """Samples the CPU time of named processes and of the machine every ``interval``
    seconds, so that the use over any stretch of a step can be read afterwards."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.pids: dict[str, int] = {}
        self.samples: list[CpuSample] = []

    def watch(self, name: str, pid: int | None) -> None:
        if pid is not None:
            self.pids[name] = pid

    def sample(self) -> None:
        cpu: dict[str, float] = {}
        for name, pid in self.pids.items():
            with contextlib.suppress(OSError, IndexError, ValueError):
                cpu[name] = cpu_seconds(pid)
        busy, total = machine_busy()
        self.samples.append(CpuSample(time.monotonic(), cpu, busy, total))

    async def run(self) -> None:
        """Sample until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def usage(self, start: float, end: float) -> dict[str, float]:
        """Per process, CPU seconds per second between the samples nearest ``start`` and
        ``end`` (1.0: one core); ``machine``: the busy share of all cores (0..1)."""
        inside = [s for s in self.samples if start <= s.at <= end]
        if len(inside) < 2:
            return {}
        first, last = inside[0], inside[-1]
        wall = last.at - first.at
        used = {
            name: (last.cpu[name] - first.cpu[name]) / wall
            for name in last.cpu
            if name in first.cpu
        }
        used["machine"] = (last.busy - first.busy) / max(last.total - first.total, 1e-9)
        return used
