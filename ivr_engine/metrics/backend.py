"""A subscriber backend that counts its failures as ``backend`` errors.

Every ``BackendError`` but ``UnknownSubscriber`` (a number that is not a subscriber is an
answer, not a failure) counts, including the calls the circuit breaker refused while open.
"""

from __future__ import annotations

from typing import Any

from ivr_engine.data.backend import (
    BackendError,
    Profile,
    SubscriberBackend,
    TopupResult,
    UnknownSubscriber,
)
from ivr_engine.data.breaker import CircuitBreaker
from ivr_engine.data.metrics import BackendMetrics


class CountedBackend:
    def __init__(self, backend: SubscriberBackend, metrics: BackendMetrics) -> None:
        self.inner = backend
        self._metrics = metrics

    @property
    def breaker(self) -> CircuitBreaker | None:
        """The inner backend's circuit breaker (the HTTP backend has one)."""
        breaker = getattr(self.inner, "breaker", None)
        return breaker if isinstance(breaker, CircuitBreaker) else None

    def _failed(self, exc: BackendError) -> None:
        if not isinstance(exc, UnknownSubscriber):
            self._metrics.error("backend")

    async def profile(self, number: str) -> Profile:
        try:
            return await self.inner.profile(number)
        except BackendError as exc:
            self._failed(exc)
            raise

    async def query(self, number: str, what: str) -> dict[str, Any]:
        try:
            return await self.inner.query(number, what)
        except BackendError as exc:
            self._failed(exc)
            raise

    async def verify_password(self, number: str, password: str) -> bool:
        try:
            return await self.inner.verify_password(number, password)
        except BackendError as exc:
            self._failed(exc)
            raise

    async def topup(self, number: str, card_pin: str) -> TopupResult:
        try:
            return await self.inner.topup(number, card_pin)
        except BackendError as exc:
            self._failed(exc)
            raise

    async def set_suspended(self, number: str, suspended: bool) -> bool:
        try:
            return await self.inner.set_suspended(number, suspended)
        except BackendError as exc:
            self._failed(exc)
            raise

    async def close(self) -> None:
        await self.inner.close()
