"""GET /metrics: Prometheus' content type, an exposition prometheus_client parses back, every
family with its type, and registries that do not share anything."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from ground.loop_monitor import LoopMonitor
from ivr_engine.agi.stats import AgiStats
from ivr_engine.ami import AmiLink
from ivr_engine.http.metrics import metrics_routes
from ivr_engine.journal import JournalWriter
from ivr_engine.metrics.engine import ERROR_KINDS, EngineMetrics
from ivr_engine.settings import AmiSettings
from tests.unit.metrics.support import value


class NoSink:
    async def save(self, record: object) -> None:
        raise AssertionError("nothing is written here")


def watched() -> EngineMetrics:
    metrics = EngineMetrics()
    loop = LoopMonitor()
    loop.last_lag, loop.max_lag, loop.tasks = 0.012, 0.25, 17
    metrics.watch(
        agi=AgiStats(),
        ami=AmiLink(AmiSettings(), metrics=metrics),
        journal=JournalWriter(NoSink()),
        loop=loop,
    )
    return metrics


async def test_the_route_serves_a_parseable_exposition() -> None:
    metrics = watched()
    metrics.error("backend")
    app = web.Application()
    app.add_routes(metrics_routes(metrics.exposition))
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
        text = await response.text()
    types = {family.name: family.type for family in text_string_to_metric_families(text)}
    process = {name for name in types if name.startswith("process_")}
    assert {"process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds"} <= process
    assert {name: kind for name, kind in types.items() if name not in process} == {
        "ivr_agi_command_seconds": "histogram",
        "ivr_acd_pass_seconds": "histogram",
        "ivr_acd_decision_seconds": "histogram",
        "ivr_errors": "counter",
        "ivr_calls_active": "gauge",
        "ivr_agi_sessions": "counter",
        "ivr_ami_link_state": "gauge",
        "ivr_ami_reconnects": "counter",
        "ivr_journal_queue_depth": "gauge",
        "ivr_event_loop_lag_seconds": "gauge",
        "ivr_event_loop_lag_max_seconds": "gauge",
        "ivr_event_loop_tasks": "gauge",
        "ivr_nuisance_blocks": "counter",
    }
    assert 'ivr_errors_total{kind="backend"} 1.0' in text


def test_every_error_kind_is_there_from_the_start() -> None:
    metrics = EngineMetrics()
    for kind in ERROR_KINDS:
        assert value(metrics, "ivr_errors_total", kind=kind) == 0
    assert set(ERROR_KINDS) == {
        "agi_protocol",
        "agi_timeout",
        "journal_write",
        "journal_dropped",
        "acd_database",
        "ami_action",
        "ami_protocol",
        "backend",
    }


def test_loop_lag_and_a_stopped_link() -> None:
    metrics = watched()
    assert value(metrics, "ivr_event_loop_lag_seconds") == 0.012
    assert value(metrics, "ivr_event_loop_lag_max_seconds") == 0.25
    assert value(metrics, "ivr_event_loop_tasks") == 17
    assert value(metrics, "ivr_ami_link_state", state="stopped") == 1
    assert value(metrics, "ivr_ami_link_state", state="connected") == 0
    assert value(metrics, "ivr_calls_active") == 0
    assert value(metrics, "ivr_journal_queue_depth") == 0


def test_each_engine_metrics_has_its_own_registry() -> None:
    first, second = EngineMetrics(), EngineMetrics()
    first.error("ami_action")
    first.acd_pass(0.01)
    assert value(first, "ivr_errors_total", kind="ami_action") == 1
    assert value(second, "ivr_errors_total", kind="ami_action") == 0
    assert value(second, "ivr_acd_pass_seconds_count") == 0
