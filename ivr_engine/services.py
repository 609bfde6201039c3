"""Open what every call borrows: the subscriber backend, shared counters, the calendar."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from ivr_engine.data.breaker import CircuitBreaker
from ivr_engine.data.http import HttpBackend
from ivr_engine.data.sql import SqlBackend
from ivr_engine.interpreter.calendar import Calendar
from ivr_engine.interpreter.context import Services
from ivr_engine.settings import Settings


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Services for calls; counters always live in the engine's own database."""
    config = settings.backend
    calendar = Calendar.from_settings(settings.calendar, settings.path(settings.hotline.holidays))
    counters = SqlBackend(settings.database_url(), timeout=config.timeout)
    backend: SqlBackend | HttpBackend = counters
    if config.kind == "http":
        if not config.url:
            raise ValueError("backend.kind is http but backend.url is not set")
        breaker = CircuitBreaker(
            failure_threshold=config.breaker_failures, reset_after=config.breaker_reset
        )
        backend = HttpBackend(
            config.url, timeout=config.timeout, retries=config.retries, breaker=breaker
        )
    elif config.url:
        backend = SqlBackend(config.url, timeout=config.timeout)
    try:
        yield Services(
            backend=backend, counters=counters, calendar=calendar, region=settings.hotline.region
        )
    finally:
        if backend is not counters:
            await backend.close()
        await counters.close()
