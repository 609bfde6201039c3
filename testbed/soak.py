"""The soak: the load it runs at, what it samples from the engine and the test bed, and how
the samples are judged (tests/integration/test_soak.py runs it; ``make soak``).

The rate. Benchmark 1 (bench/ivr_throughput.py) measures the engine's highest sustained
IVR call rate through Asterisk; the soak runs at ``LOAD_SHARE`` (80 %) of it. The figure
is read from docs/benchmarks.md (the row "highest sustained rate, no failed call" of
section 1) when that file has it, otherwise ``MEASURED_CAPACITY`` is used. The environment
overrides: ``IVR_SOAK_RATE`` (calls/s) the rate itself, ``IVR_SOAK_MINUTES`` the length of
the load, ``IVR_SOAK_INTERVAL`` the seconds between samples (30), ``IVR_SOAK_AGENTS`` the
agents answering queued calls (3; 0: none).

The samples. Every interval the engine's ``/metrics`` gives its resident memory
(``process_resident_memory_bytes``), asyncio tasks (``ivr_event_loop_tasks``), open file
descriptors (``process_open_fds``), calls in flight (``ivr_calls_active``), the journal's
backlog and the loop lag; the database connections are the engine's descriptors on its
SQLite file (/proc/<pid>/fd: each SQLite connection holds the file open once; the descriptors on
its -wal and -shm files are the database's too) or, on PostgreSQL, the rows of
``pg_stat_activity`` for its database; Asterisk's channels come
from ``core show channels count``.

The judgement (:func:`judge`). Samples have a phase: ``idle`` (after a short priming burst
of calls, before the load), ``load`` (``at``: seconds since the load started) and
``drain`` (after the load stopped and the calls ended). The warm-up is the load's first
``warm_up_s`` (5 minutes; a third of a shorter run), the last window its last as many
seconds. Passing means no growth:

* memory: the last window's median RSS is within 10 % and 30 MB of the warm-up's median;
* tasks and descriptors: after the warm-up every sample stays within the warm-up's band,
  the idle figure plus 1.25 times the warm-up's highest count per call in flight times
  the calls in flight, plus a few;
* database connections: never more than the engine's connection pools can hold
  (:func:`pool_capacity`);
* after the drain: no channel on Asterisk, no call in flight, the journal written, tasks
  and the descriptors other than the database's within a few of the idle figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import re
import statistics
import urllib.request
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import NamedTuple

import asyncpg  # type: ignore[import-untyped]
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import make_url

from ground.paths import PROJECT_ROOT

BENCHMARKS_DOC = PROJECT_ROOT / "docs" / "benchmarks.md"
# Benchmark 1's highest sustained engine rate on the development machine (2 cores, Debian
# 12, Asterisk 22 test bed) in its runs so far: 40 calls/s carried, 45 and 50 failed.
MEASURED_CAPACITY = 40.0
LOAD_SHARE = 0.8
DEFAULT_MINUTES = 30.0
DEFAULT_INTERVAL = 30.0
DEFAULT_AGENTS = 3
WARM_UP_S = 300.0  # the first 5 minutes of load; the last window is as long

RSS_GROWTH = 0.10  # the last window's median RSS at most 10 % ...
RSS_GROWTH_MB = 30.0  # ... and 30 MB above the warm-up's
BAND_FACTOR = 1.25  # per call in flight, over the warm-up's highest
BAND_SLACK = 10  # tasks or descriptors over the band, for timers and pooled connections
DRAINED_SLACK = 5  # tasks or non-database descriptors over the idle figures after the drain

# SQLAlchemy's default pool (QueuePool, 5 kept + 10 overflow), which make_engine keeps; one
# per database engine the running engine opens (ivr_engine/app.py); besides them the ACD
# keeps one connection of its own: on SQLite for its matching passes (acd/service/acd.py),
# on PostgreSQL to LISTEN for wake-ups (acd/service/wakeup.py).
POOL_SIZE, MAX_OVERFLOW = 5, 10
ENGINE_POOLS = ("subscriber data and counters", "journal", "ACD", "operations API", "wallboard")
ACD_OWN_CONNECTIONS = 1


def pool_capacity(nuisance: bool = False) -> int:
    """How many database connections the running engine can hold at most: its pools' sizes
    (with nuisance-caller protection on, one more pool for its counters) and the ACD's own."""
    pools = len(ENGINE_POOLS) + (1 if nuisance else 0)
    return pools * (POOL_SIZE + MAX_OVERFLOW) + ACD_OWN_CONNECTIONS


_RATE_ROW = re.compile(r"^\|\s*highest sustained rate[^|]*\|\s*([0-9][0-9,.]*)\s*calls/s")


def benchmark_capacity(doc: Path = BENCHMARKS_DOC) -> tuple[float, str]:
    """(benchmark 1's highest sustained engine rate in calls/s, where it comes from)."""
    try:
        text = doc.read_text(encoding="utf-8")
    except OSError:
        text = ""
    section = False
    for line in text.splitlines():
        if line.startswith("## "):
            section = line.startswith("## 1.")
        elif section:
            found = _RATE_ROW.match(line)
            if found:
                value = float(found.group(1).replace(",", ""))
                if value > 0:
                    return value, f"{doc.name}, benchmark 1"
    return MEASURED_CAPACITY, "benchmark 1's runs on the development machine"


@dataclass(frozen=True)
class SoakPlan:
    minutes: float
    rate: float  # calls/s of the IVR load
    rate_source: str
    interval: float  # seconds between samples
    agents: int  # agents answering queued calls

    @property
    def load_s(self) -> float:
        return self.minutes * 60

    @property
    def warm_up_s(self) -> float:
        """The warm-up, and the length of the last window: 5 minutes, or a third of a
        shorter run."""
        return min(WARM_UP_S, self.load_s / 3)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> SoakPlan:
        env = os.environ if env is None else env
        minutes = float(env.get("IVR_SOAK_MINUTES") or DEFAULT_MINUTES)
        interval = float(env.get("IVR_SOAK_INTERVAL") or DEFAULT_INTERVAL)
        agents = int(env.get("IVR_SOAK_AGENTS") or DEFAULT_AGENTS)
        asked = env.get("IVR_SOAK_RATE")
        if asked:
            rate, source = float(asked), "IVR_SOAK_RATE"
        else:
            capacity, where = benchmark_capacity()
            rate = round(capacity * LOAD_SHARE, 1)
            source = f"{LOAD_SHARE:.0%} of {capacity:g} calls/s ({where})"
        if minutes <= 0 or interval <= 0 or rate <= 0 or agents < 0:
            raise ValueError(f"soak: minutes, interval and rate must be > 0: {env}")
        return cls(minutes, rate, source, interval, agents)


@dataclass(frozen=True)
class Sample:
    phase: str  # idle | load | drain
    at: float  # seconds since the load started (negative before it)
    rss_mb: float
    tasks: int
    fds: int
    calls_active: int
    db_connections: int
    db_fds: int  # descriptors on the database: connections, and SQLite's WAL and shm files
    channels: int
    journal_queue: int
    loop_lag_ms: float

    @property
    def other_fds(self) -> int:
        """Descriptors other than the database's."""
        return self.fds - self.db_fds


@dataclass(frozen=True)
class Check:
    name: str
    measured: str
    limit: str
    passed: bool


# --- sampling ------------------------------------------------------------------------------


def read_metrics(text: str) -> dict[str, float]:
    """The unlabelled samples of a Prometheus exposition, by name."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.labels:
                found[sample.name] = float(sample.value)
    return found


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
    return body.decode("utf-8")


async def fetch_metrics(url: str) -> dict[str, float]:
    """The engine's ``/metrics`` (read in a worker thread, 5 s at most)."""
    return read_metrics(await asyncio.to_thread(_get, url))


class DbUse(NamedTuple):
    connections: int
    descriptors: int  # every descriptor the engine has for its database


def sqlite_use(pid: int, database: Path) -> DbUse:
    """The process's open descriptors on the SQLite file: one per connection (and at times
    the descriptor of a connection just closed, which SQLite keeps while another connection
    of the process holds a lock on the file); with those on its -wal and -shm files."""
    main = str(database.resolve())
    files = {main, f"{main}-wal", f"{main}-shm", f"{main}-journal"}
    connections = descriptors = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{name}")
            connections += target == main
            descriptors += target in files
    return DbUse(connections, descriptors)


async def postgres_use(url: str) -> DbUse:
    """Sessions on the URL's database other than this one (``pg_stat_activity``), each one
    socket of the engine's."""
    parsed = make_url(url).set(drivername="postgresql")
    conn = await asyncpg.connect(parsed.render_as_string(hide_password=False), timeout=5)
    try:
        value = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
            timeout=5,
        )
    finally:
        await conn.close(timeout=5)
    return DbUse(int(value), int(value))


class Sampler:
    """Takes one :class:`Sample` of the engine (``/metrics`` at ``metrics_url``), its
    database connections and Asterisk's channels; keeps them in order."""

    def __init__(
        self,
        metrics_url: str,
        database: Callable[[], Awaitable[DbUse]],
        channels: Callable[[], Awaitable[int]],
    ) -> None:
        self.metrics_url = metrics_url
        self.database = database
        self.channels = channels
        self.samples: list[Sample] = []

    async def take(self, phase: str, at: float) -> Sample:
        values, db, channels = await asyncio.gather(
            fetch_metrics(self.metrics_url), self.database(), self.channels()
        )
        sample = Sample(
            phase=phase,
            at=round(at, 1),
            rss_mb=round(values["process_resident_memory_bytes"] / 2**20, 1),
            tasks=int(values["ivr_event_loop_tasks"]),
            fds=int(values["process_open_fds"]),
            calls_active=int(values["ivr_calls_active"]),
            db_connections=db.connections,
            db_fds=db.descriptors,
            channels=channels,
            journal_queue=int(values.get("ivr_journal_queue_depth", 0)),
            loop_lag_ms=round(values.get("ivr_event_loop_lag_seconds", 0.0) * 1000, 1),
        )
        self.samples.append(sample)
        return sample


# --- judging -------------------------------------------------------------------------------


def _band_check(
    name: str,
    value: Callable[[Sample], int],
    idle: Sample,
    warm: Sequence[Sample],
    after: Sequence[Sample],
) -> Check:
    per_call = [(value(s) - value(idle)) / s.calls_active for s in warm if s.calls_active > 0]
    if not per_call or not after:
        return Check(name, "no samples with calls in flight", "", False)
    k = max(0.0, max(per_call)) * BAND_FACTOR
    worst = max(after, key=lambda s: value(s) - (value(idle) + k * s.calls_active))
    band = value(idle) + k * worst.calls_active + BAND_SLACK
    return Check(
        name,
        f"worst {value(worst)} at {worst.at:g} s with {worst.calls_active} calls "
        f"(idle {value(idle)}, warm-up up to {max(per_call):.2f} per call)",
        f"<= {band:.0f} (idle + {k:.2f} per call + {BAND_SLACK})",
        value(worst) <= band,
    )


def judge(samples: Sequence[Sample], plan: SoakPlan, pools: int) -> list[Check]:
    """The pass criteria over a soak's samples (module docstring)."""
    idle = [s for s in samples if s.phase == "idle"]
    load = [s for s in samples if s.phase == "load"]
    drain = [s for s in samples if s.phase == "drain"]
    if not idle or not load or not drain:
        counts = f"{len(idle)} idle, {len(load)} load, {len(drain)} drain"
        return [Check("samples", counts, "one of each at least", False)]
    base, end = idle[-1], drain[-1]
    warm = [s for s in load if 0 < s.at <= plan.warm_up_s]
    last = [s for s in load if s.at > plan.load_s - plan.warm_up_s]
    after = [s for s in load if s.at > plan.warm_up_s]
    checks: list[Check] = []
    if warm and last:
        warm_rss = statistics.median(s.rss_mb for s in warm)
        last_rss = statistics.median(s.rss_mb for s in last)
        limit = min(warm_rss * (1 + RSS_GROWTH), warm_rss + RSS_GROWTH_MB)
        checks.append(
            Check(
                "memory: last window's median RSS",
                f"{last_rss:.1f} MB (warm-up {warm_rss:.1f} MB, "
                f"{(last_rss - warm_rss) / warm_rss:+.1%})",
                f"<= {limit:.1f} MB (+10 % and +30 MB at most)",
                last_rss <= limit,
            )
        )
    else:
        checks.append(Check("memory", f"{len(warm)} warm-up, {len(last)} last", ">= 1", False))
    checks.append(_band_check("tasks after the warm-up", lambda s: s.tasks, base, warm, after))
    checks.append(_band_check("descriptors after the warm-up", lambda s: s.fds, base, warm, after))
    most = max(samples, key=lambda s: s.db_connections)
    checks.append(
        Check(
            "database connections, most at any time",
            f"{most.db_connections} (at {most.at:g} s)",
            f"<= {pools} (the pools' sizes)",
            most.db_connections <= pools,
        )
    )
    checks += [
        Check("Asterisk channels after the drain", str(end.channels), "0", end.channels == 0),
        Check("calls in flight after the drain", str(end.calls_active), "0", end.calls_active == 0),
        Check(
            "journal backlog after the drain", str(end.journal_queue), "0", end.journal_queue == 0
        ),
        Check(
            "tasks after the drain",
            f"{end.tasks} (idle {base.tasks})",
            f"<= {base.tasks + DRAINED_SLACK}",
            end.tasks <= base.tasks + DRAINED_SLACK,
        ),
        Check(
            "descriptors other than the database's after the drain",
            f"{end.other_fds} (idle {base.other_fds})",
            f"<= {base.other_fds + DRAINED_SLACK}",
            end.other_fds <= base.other_fds + DRAINED_SLACK,
        ),
    ]
    return checks


def count_check(name: str, got: int, expected: int) -> Check:
    return Check(name, str(got), f"= {expected}", got == expected)


# --- reporting -----------------------------------------------------------------------------

COLUMNS = [f.name for f in fields(Sample)]


def write_csv(samples: Sequence[Sample], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for sample in samples:
            writer.writerow(asdict(sample))


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]


def _spread(values: Sequence[float]) -> str:
    if not values:
        return "-"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low:g} / {mid:g} / {high:g}"


def summary(
    samples: Sequence[Sample], plan: SoakPlan, checks: Sequence[Check], facts: Sequence[str]
) -> str:
    """The samples by stretch (min / median / max) and the checks, as plain text."""
    load = [s for s in samples if s.phase == "load"]
    stretches: list[tuple[str, list[Sample]]] = [
        ("idle", [s for s in samples if s.phase == "idle"]),
        ("warm-up", [s for s in load if 0 < s.at <= plan.warm_up_s]),
        ("after warm-up", [s for s in load if s.at > plan.warm_up_s]),
        ("last window", [s for s in load if s.at > plan.load_s - plan.warm_up_s]),
        ("drained", [s for s in samples if s.phase == "drain"][-1:]),
    ]
    shown = ("rss_mb", "tasks", "fds", "calls_active", "db_connections", "db_fds", "channels")
    rows = [["stretch (min / median / max)", "samples", *shown]]
    for name, taken in stretches:
        rows.append(
            [name, str(len(taken)), *(_spread([getattr(s, f) for s in taken]) for f in shown)]
        )
    lines = [
        f"Soak: {plan.minutes:g} min at {plan.rate:g} calls/s ({plan.rate_source}), "
        f"{plan.agents} agents, a sample every {plan.interval:g} s",
        *facts,
        "",
        *_table(rows),
        "",
    ]
    rows = [["check", "measured", "limit", "passed"]] + [
        [c.name, c.measured, c.limit, "yes" if c.passed else "NO"] for c in checks
    ]
    lines += _table(rows)
    return "\n".join(lines) + "\n"


def write_summary(text: str, checks: Sequence[Check], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.with_suffix(".json").write_text(
        json.dumps([asdict(c) for c in checks], ensure_ascii=False, indent=1), encoding="utf-8"
    )
