"""The soak's judgement: steady samples pass, every kind of growth or leftover fails."""

from __future__ import annotations

import contextlib
import csv
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from ground.database import make_engine
from testbed.soak import (
    MAX_OVERFLOW,
    MEASURED_CAPACITY,
    POOL_SIZE,
    Sample,
    SoakPlan,
    benchmark_capacity,
    judge,
    pool_capacity,
    read_metrics,
    sqlite_use,
    summary,
    write_csv,
)

PLAN = SoakPlan(minutes=30, rate=32, rate_source="test", interval=30, agents=3)
POOLS = pool_capacity()


def _sample(phase: str, at: float, **values: float) -> Sample:
    base: dict[str, float] = {
        "rss_mb": 120.0,
        "tasks": 40,
        "fds": 60,
        "calls_active": 0,
        "db_connections": 6,
        "db_fds": 10,
        "channels": 0,
        "journal_queue": 0,
        "loop_lag_ms": 1.0,
    }
    base.update(values)
    return Sample(
        phase=phase,
        at=at,
        rss_mb=base["rss_mb"],
        tasks=int(base["tasks"]),
        fds=int(base["fds"]),
        calls_active=int(base["calls_active"]),
        db_connections=int(base["db_connections"]),
        db_fds=int(base["db_fds"]),
        channels=int(base["channels"]),
        journal_queue=int(base["journal_queue"]),
        loop_lag_ms=base["loop_lag_ms"],
    )


def _steady() -> list[Sample]:
    """A soak that holds: 240 calls in flight, two tasks and one descriptor each."""
    samples = [_sample("idle", -10), _sample("idle", 0)]
    for k in range(1, 61):
        calls = 240 + (k % 3) * 5
        samples.append(
            _sample(
                "load",
                k * 30.0,
                rss_mb=150.0 + (k % 4),
                tasks=40 + 2 * calls,
                fds=60 + calls + 8,
                calls_active=calls,
                db_connections=14,
                db_fds=22,
                channels=calls,
                journal_queue=k % 7,
            )
        )
    samples += [
        _sample("drain", 1830.0 + 10 * k, db_connections=10, db_fds=14, fds=64) for k in range(3)
    ]
    return samples


def _failed(samples: list[Sample]) -> list[str]:
    return [c.name for c in judge(samples, PLAN, POOLS) if not c.passed]


def _changed(samples: list[Sample], phase: str, after: float, **values: float) -> list[Sample]:
    return [
        replace(s, **values) if s.phase == phase and s.at > after else s  # type: ignore[arg-type]
        for s in samples
    ]


def test_a_steady_soak_passes() -> None:
    checks = judge(_steady(), PLAN, POOLS)
    assert [c.name for c in checks if not c.passed] == [], checks
    assert len(checks) == 9


def test_memory_growing_in_the_last_window_fails() -> None:
    grown = [
        replace(s, rss_mb=s.rss_mb + 40) if s.phase == "load" and s.at > 1500 else s
        for s in _steady()
    ]
    assert _failed(grown) == ["memory: last window's median RSS"]


def test_memory_growth_under_ten_percent_and_30_mb_passes() -> None:
    grown = [
        replace(s, rss_mb=s.rss_mb + 12) if s.phase == "load" and s.at > 1500 else s
        for s in _steady()
    ]
    assert _failed(grown) == []


def test_a_task_leak_fails_during_the_load_and_after_the_drain() -> None:
    # One task left behind every 30 s of load: 2 per call in flight no longer explain them.
    leaking = [
        replace(s, tasks=s.tasks + int(s.at / 2)) if s.phase in ("load", "drain") else s
        for s in _steady()
    ]
    assert _failed(leaking) == ["tasks after the warm-up", "tasks after the drain"]


def test_descriptors_left_open_after_the_drain_fail() -> None:
    left = _changed(_steady(), "drain", 0, fds=90)
    assert _failed(left) == ["descriptors other than the database's after the drain"]


def test_pooled_database_connections_are_not_taken_for_leaked_descriptors() -> None:
    # 20 more descriptors, all of them the database's: connections the pools keep, WAL files.
    pooled = _changed(_steady(), "drain", 0, fds=84, db_connections=20, db_fds=34)
    assert _failed(pooled) == []


def test_more_database_connections_than_the_pools_hold_fail() -> None:
    samples = _steady()
    samples[30] = replace(samples[30], db_connections=POOLS + 1)
    assert _failed(samples) == ["database connections, most at any time"]


def test_channels_calls_or_journal_left_after_the_drain_fail() -> None:
    assert _failed(_changed(_steady(), "drain", 0, channels=2)) == [
        "Asterisk channels after the drain"
    ]
    assert _failed(_changed(_steady(), "drain", 0, calls_active=1)) == [
        "calls in flight after the drain"
    ]
    assert _failed(_changed(_steady(), "drain", 0, journal_queue=3)) == [
        "journal backlog after the drain"
    ]


def test_no_drain_sample_fails() -> None:
    assert _failed([s for s in _steady() if s.phase != "drain"]) == ["samples"]


def test_the_windows_of_a_short_run_are_a_third_of_it() -> None:
    assert PLAN.warm_up_s == 300
    assert replace(PLAN, minutes=3).warm_up_s == 60


def test_the_plan_from_the_environment() -> None:
    plan = SoakPlan.from_environment({"IVR_SOAK_MINUTES": "3", "IVR_SOAK_RATE": "12.5"})
    assert (plan.minutes, plan.rate, plan.interval, plan.agents) == (3, 12.5, 30, 3)
    default = SoakPlan.from_environment({})
    capacity, _ = benchmark_capacity()
    assert default.minutes == 30 and default.rate == round(capacity * 0.8, 1)
    with pytest.raises(ValueError):
        SoakPlan.from_environment({"IVR_SOAK_RATE": "0"})


def test_the_capacity_comes_from_benchmark_1_in_the_benchmarks_page(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n## 2. FastAGI turnaround\n\n"
        "| highest sustained rate, no failed call | 900 calls/s | | | |\n\n"
        "## 1. IVR throughput through real Asterisk\n\n"
        "| figure | engine | baseline | target | met |\n|---|---|---|---|---|\n"
        "| highest sustained rate, no failed call | 45 calls/s | 60 calls/s |  |  |\n",
        encoding="utf-8",
    )
    assert benchmark_capacity(doc) == (45.0, "benchmarks.md, benchmark 1")
    assert benchmark_capacity(tmp_path / "missing.md")[0] == MEASURED_CAPACITY


def test_metrics_are_read_by_name() -> None:
    text = (
        "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
        "# TYPE process_resident_memory_bytes gauge\n"
        "process_resident_memory_bytes 1.2582912e+08\n"
        "# TYPE ivr_event_loop_tasks gauge\nivr_event_loop_tasks 57.0\n"
        '# TYPE ivr_errors counter\nivr_errors_total{kind="agi_timeout"} 2.0\n'
    )
    values = read_metrics(text)
    assert values["process_resident_memory_bytes"] == 125829120
    assert values["ivr_event_loop_tasks"] == 57
    assert "ivr_errors_total" not in values  # labelled samples are not taken


def test_the_pool_bound_follows_the_engines_pools(tmp_path: Path) -> None:
    engine = make_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", connect_timeout=1, command_timeout=1
    )
    pool = engine.sync_engine.pool
    assert pool.size() == POOL_SIZE  # type: ignore[attr-defined]
    assert pool._max_overflow == MAX_OVERFLOW  # type: ignore[attr-defined]
    assert pool_capacity() == 5 * 15 + 1
    assert pool_capacity(nuisance=True) == 6 * 15 + 1


def test_sqlite_connections_are_the_descriptors_on_the_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    assert sqlite_use(os.getpid(), path) == (0, 0)
    with contextlib.closing(sqlite3.connect(path)) as first:
        first.execute("PRAGMA journal_mode=WAL")
        first.execute("CREATE TABLE t (x)")
        with contextlib.closing(sqlite3.connect(path)) as second:
            second.execute("SELECT * FROM t").fetchall()
            connections, descriptors = sqlite_use(os.getpid(), path)
            assert connections == 2
            assert descriptors > connections  # the WAL and shm files are open too
        # SQLite may keep a closed connection's descriptor while another one holds a lock:
        # the count is never below the connections.
        assert sqlite_use(os.getpid(), path).connections >= 1
    assert sqlite_use(os.getpid(), path) == (0, 0)


def test_the_samples_and_the_summary_are_written(tmp_path: Path) -> None:
    samples = _steady()
    path = tmp_path / "soak" / "s.csv"
    write_csv(samples, path)
    with path.open(encoding="utf-8") as rows:
        read = list(csv.DictReader(rows))
    assert len(read) == len(samples) and read[2]["phase"] == "load"
    assert read[2]["tasks"] == str(samples[2].tasks)
    checks = judge(samples, PLAN, POOLS)
    text = summary(samples, PLAN, checks, ["1 fact"])
    assert "1 fact" in text and "last window" in text
    assert all(c.name in text for c in checks)
