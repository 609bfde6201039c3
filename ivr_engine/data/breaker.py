"""A circuit breaker for calls to a remote subscriber system.

closed: calls go through; ``failure_threshold`` consecutive failures open it.
open: calls fail fast with BackendError("circuit open") for ``reset_after`` seconds.
half-open: one trial call goes through (others still fail fast); its success closes the
breaker, its failure opens it again. A trial that never reports back (a cancelled call) is
given up after another ``reset_after`` seconds so the breaker cannot stick.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ivr_engine.data.backend import BackendError

T = TypeVar("T")


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 5,
        reset_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_after < 0:
            raise ValueError("reset_after must not be negative")
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_since: float | None = None

    @property
    def state(self) -> str:
        """closed, open, or half-open (open, and the next call will be the trial)."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at < self.reset_after:
            return "open"
        return "half-open"

    @property
    def failures(self) -> int:
        """Consecutive failures so far."""
        return self._failures

    def before_call(self) -> None:
        """Let a call through or raise BackendError("circuit open")."""
        state = self.state
        if state == "closed":
            return
        now = self._clock()
        stale = self._trial_since is not None and now - self._trial_since >= self.reset_after
        if state == "half-open" and (self._trial_since is None or stale):
            self._trial_since = now
            return
        raise BackendError("circuit open")

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_since = None

    def record_failure(self) -> None:
        self._failures += 1
        self._trial_since = None
        if self._opened_at is not None or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()

    async def call(self, func: Callable[[], Awaitable[T]]) -> T:
        """Run ``func`` under the breaker; a BackendError from it counts as a failure."""
        self.before_call()
        try:
            result = await func()
        except BackendError:
            self.record_failure()
            raise
        self.record_success()
        return result
