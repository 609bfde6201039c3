"""Subscriber-system failures are counted; an unknown subscriber is not a failure; the
circuit breaker's state is reported. Against a real local HTTP server (FakeCrm)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ivr_engine.data import BackendError, CircuitBreaker, UnknownSubscriber
from ivr_engine.data.http import HttpBackend
from ivr_engine.metrics.engine import EngineMetrics
from tests.unit.data.fake_crm import FakeCrm
from tests.unit.metrics.support import errors, value

VIP = "13800138000"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def crm() -> AsyncIterator[FakeCrm]:
    server = FakeCrm()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http(crm: FakeCrm) -> AsyncIterator[tuple[HttpBackend, Clock]]:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, reset_after=30.0, clock=clock)
    client = HttpBackend(crm.base_url, timeout=0.5, retries=0, breaker=breaker)
    yield client, clock
    await client.close()


def circuit(metrics: EngineMetrics) -> dict[str, float | None]:
    return {
        state: value(metrics, "ivr_backend_circuit_state", state=state)
        for state in ("closed", "open", "half-open")
    }


async def test_answers_count_nothing_and_failures_count_each(
    crm: FakeCrm, http: tuple[HttpBackend, Clock]
) -> None:
    metrics = EngineMetrics()
    backend = metrics.counted(http[0])
    assert (await backend.profile(VIP)).known
    assert (await backend.query(VIP, "balance"))["balance"] > 0
    with pytest.raises(UnknownSubscriber):  # a number that is not a subscriber: an answer
        await backend.query("13900000000", "balance")
    assert errors(metrics, "backend") == 0

    crm.statuses = [503]
    with pytest.raises(BackendError):
        await backend.profile(VIP)
    assert errors(metrics, "backend") == 1
    assert circuit(metrics) == {"closed": 1, "open": 0, "half-open": 0}


async def test_the_open_circuit_is_reported_and_its_refusals_counted(
    crm: FakeCrm, http: tuple[HttpBackend, Clock]
) -> None:
    client, clock = http
    metrics = EngineMetrics()
    backend = metrics.counted(client)
    crm.statuses = [500, 500]
    for _ in range(2):
        with pytest.raises(BackendError):
            await backend.query(VIP, "balance")
    assert circuit(metrics) == {"closed": 0, "open": 1, "half-open": 0}
    hits = len(crm.hits)
    with pytest.raises(BackendError, match="circuit open"):
        await backend.verify_password(VIP, "888888")
    assert len(crm.hits) == hits  # refused without asking the system
    assert errors(metrics, "backend") == 3
    clock.now = 31.0
    assert circuit(metrics) == {"closed": 0, "open": 0, "half-open": 1}
    assert await backend.verify_password(VIP, "888888")  # the trial goes through
    assert circuit(metrics) == {"closed": 1, "open": 0, "half-open": 0}
    assert errors(metrics, "backend") == 3


async def test_a_backend_without_a_breaker_reports_no_circuit() -> None:
    class Down:
        async def profile(self, number: str) -> object:
            raise BackendError("database timeout (profile)")

    metrics = EngineMetrics()
    backend = metrics.counted(Down())  # type: ignore[arg-type]
    with pytest.raises(BackendError):
        await backend.profile(VIP)
    assert errors(metrics, "backend") == 1
    assert circuit(metrics) == {"closed": None, "open": None, "half-open": None}
