"""ACD metrics on a real ACD (temporary SQLite database, a clock the test moves): pass and
decision latency, agents by state and calls waiting from the snapshot, database errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.service.acd import Acd
from acd.store.sync import sync_config
from ivr_engine.db_schema import upgrade
from ivr_engine.metrics.engine import EngineMetrics
from tests.unit.acd_asterisk.scripted import FakeClock, log_in, make_config
from tests.unit.agi.peer import eventually
from tests.unit.metrics.support import errors, value


@pytest.fixture
def metrics() -> EngineMetrics:
    return EngineMetrics(acd_refresh=0.05)


@pytest.fixture
async def acd(tmp_path: Path, metrics: EngineMetrics) -> AsyncIterator[Acd]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    await upgrade(url)
    config = make_config()
    await sync_config(url, config)
    service = Acd(url, config, "test", poll_interval=0.05, clock=FakeClock(), metrics=metrics)
    try:
        yield service
    finally:
        await metrics.stop()
        await service.stop()


def clock_of(acd: Acd) -> FakeClock:
    assert isinstance(acd.clock, FakeClock)
    return acd.clock


def passes(metrics: EngineMetrics) -> float | None:
    return value(metrics, "ivr_acd_pass_seconds_count")


def decisions(metrics: EngineMetrics) -> float | None:
    return value(metrics, "ivr_acd_decision_seconds_count")


async def test_passes_with_something_to_match_are_timed(acd: Acd, metrics: EngineMetrics) -> None:
    await acd.dispatcher.run_pass()  # nobody waits: nothing decided, nothing timed
    assert (passes(metrics), decisions(metrics)) == (0, 0)
    await log_in(acd, clock_of(acd), "8001", "8002")
    await acd.enqueue("call-1", "sales")
    await acd.enqueue("call-2", "sales")
    await acd.enqueue("call-3", "sales")
    result = await acd.dispatcher.run_pass()
    assert len(result.reserved) == 2
    assert passes(metrics) == 1
    assert decisions(metrics) == 2  # one per call that got an agent; the third found none
    total = value(metrics, "ivr_acd_pass_seconds_sum")
    assert total is not None and total > 0
    await acd.dispatcher.run_pass()  # call-3 waits, but no agent is free: no decision
    assert (passes(metrics), decisions(metrics)) == (1, 2)


async def test_the_snapshot_reports_agents_and_waiting_calls(
    acd: Acd, metrics: EngineMetrics
) -> None:
    clock = clock_of(acd)
    metrics.watch(acd=acd)
    assert value(metrics, "ivr_acd_agents", state="available") is None  # not read yet
    await log_in(acd, clock, "8001")
    await acd.agent_event("8002", "log_in")
    await acd.agent_event("8002", "pause", reason="lunch")
    await acd.enqueue("call-1", "billing")
    clock.advance(20.0)
    await acd.enqueue("call-2", "billing")
    ticket = await acd.enqueue("call-3", "sales")
    assert await acd.to_callback(ticket, "13800138000")
    assert metrics.acd is not None
    await metrics.acd.refresh()
    clock.advance(10.0)

    agents = {
        state: value(metrics, "ivr_acd_agents", state=state)
        for state in ("logged-out", "available", "reserved", "on-call", "wrap-up", "paused")
    }
    assert agents == {
        "logged-out": 1,
        "available": 1,
        "reserved": 0,
        "on-call": 0,
        "wrap-up": 0,
        "paused": 1,
    }
    assert value(metrics, "ivr_acd_calls_waiting", queue="billing") == 2
    assert value(metrics, "ivr_acd_calls_waiting", queue="sales") == 0
    assert value(metrics, "ivr_acd_callbacks_owed", queue="sales") == 1
    assert value(metrics, "ivr_acd_longest_wait_seconds", queue="billing") == 30.0
    assert value(metrics, "ivr_acd_longest_wait_seconds", queue="sales") == 0
    age = value(metrics, "ivr_acd_snapshot_age_seconds")
    assert age is not None and 0 <= age < 5


async def test_the_snapshot_task_keeps_the_figures_fresh(acd: Acd, metrics: EngineMetrics) -> None:
    metrics.watch(acd=acd)
    metrics.start()
    await eventually(lambda: value(metrics, "ivr_acd_agents", state="logged-out") == 3, 2.0)
    await acd.agent_event("8003", "log_in")
    await eventually(lambda: value(metrics, "ivr_acd_agents", state="available") == 1, 2.0)
    await metrics.stop()
    assert metrics.acd is not None and metrics.acd.last_error is None


async def test_database_errors_are_counted(tmp_path: Path, metrics: EngineMetrics) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no such folder' / 'acd.db'}"
    broken = Acd(url, make_config(), "test", poll_interval=0.05, metrics=metrics)
    metrics.watch(acd=broken)
    metrics.start()
    broken.start()
    try:
        await eventually(lambda: broken.dispatcher.failures >= 2, 3.0)
        await eventually(lambda: metrics.acd is not None and metrics.acd.last_error is not None)
        assert value(metrics, "ivr_acd_agents", state="available") is None  # no false zeros
    finally:
        await metrics.stop()
        await broken.stop()
    assert errors(metrics, "acd_database") == broken.dispatcher.failures
