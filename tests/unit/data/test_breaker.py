"""CircuitBreaker states with an injected clock."""

from __future__ import annotations

import pytest

from ivr_engine.data import BackendError, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, reset_after=30.0, clock=clock)


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.before_call()
        breaker.record_failure()


def test_opens_after_consecutive_failures(breaker: CircuitBreaker) -> None:
    assert breaker.state == "closed"
    fail(breaker, 2)
    assert breaker.state == "closed"
    assert breaker.failures == 2
    fail(breaker, 1)
    assert breaker.state == "open"
    with pytest.raises(BackendError, match="circuit open"):
        breaker.before_call()


def test_a_success_resets_the_count(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.before_call()
    breaker.record_success()
    fail(breaker, 2)
    assert breaker.state == "closed"


def test_half_open_lets_one_trial_through_and_closes_on_success(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 3)
    clock.now += 29.9
    assert breaker.state == "open"
    clock.now += 0.1
    assert breaker.state == "half-open"
    breaker.before_call()  # the trial
    with pytest.raises(BackendError, match="circuit open"):
        breaker.before_call()  # others still fail fast while the trial runs
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.failures == 0
    breaker.before_call()


def test_a_failed_trial_reopens_for_another_period(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 30
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now += 29
    with pytest.raises(BackendError):
        breaker.before_call()
    clock.now += 1
    assert breaker.state == "half-open"
    breaker.before_call()


def test_a_trial_that_never_reports_is_given_up(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 30
    breaker.before_call()  # trial cancelled: no success or failure is recorded
    clock.now += 29
    with pytest.raises(BackendError):
        breaker.before_call()
    clock.now += 1
    breaker.before_call()  # a new trial


async def test_call_counts_backend_errors(breaker: CircuitBreaker) -> None:
    async def broken() -> int:
        raise BackendError("HTTP 503")

    async def fine() -> int:
        return 7

    for _ in range(3):
        with pytest.raises(BackendError, match="HTTP 503"):
            await breaker.call(broken)
    with pytest.raises(BackendError, match="circuit open"):
        await breaker.call(fine)


async def test_call_passes_results_and_other_errors(breaker: CircuitBreaker) -> None:
    async def fine() -> int:
        return 7

    async def bug() -> int:
        raise KeyError("x")

    assert await breaker.call(fine) == 7
    with pytest.raises(KeyError):
        await breaker.call(bug)
    assert breaker.failures == 0


def test_bad_settings() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker(reset_after=-1)
