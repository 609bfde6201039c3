"""Open what every call borrows: the subscriber backend, shared counters, the calendar."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime

from ivr_engine.data.backend import SubscriberBackend
from ivr_engine.data.breaker import CircuitBreaker
from ivr_engine.data.http import HttpBackend
from ivr_engine.data.nuisance import NuisanceGuard
from ivr_engine.data.sql import SqlBackend
from ivr_engine.interpreter.calendar import Calendar
from ivr_engine.interpreter.context import Services
from ivr_engine.settings import Settings


def database_urls(settings: Settings) -> list[str]:
    """The databases ``open_services`` uses: the engine's, and a separate SQL backend's.

    Each must be migrated (``ivr_engine.db_schema.upgrade``) before services are opened.
    """
    urls = [settings.database_url()]
    config = settings.backend
    if config.kind == "sql" and config.url and config.url not in urls:
        urls.append(config.url)
    return urls


def subscriber_data_url(settings: Settings) -> str | None:
    """The database ``open_services`` reads subscriber data and the blacklist from: the
    SQL backend's own, else the engine's; None when the data is in a CRM (``http``)."""
    config = settings.backend
    if config.kind == "http":
        return None
    return config.url or settings.database_url()


async def upgrade_databases(settings: Settings) -> None:
    """Migrate every database of ``database_urls`` to the newest schema."""
    from ivr_engine.db_schema import upgrade

    for url in database_urls(settings):
        await upgrade(url)


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    count: Callable[[SubscriberBackend], SubscriberBackend] | None = None,
    nuisance: NuisanceGuard | None = None,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[Services]:
    """Services for calls; counters always live in the engine's own database.

    ``count`` wraps the subscriber backend the calls use (the engine counts its failures);
    ``nuisance`` screens every call as it enters; ``clock`` replaces the calendar's (the
    simulator's ``--at``). The backends opened here are closed here, unwrapped."""
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
        token = config.token.get_secret_value()
        backend = HttpBackend(
            config.url,
            timeout=config.timeout,
            retries=config.retries,
            breaker=breaker,
            headers={"Authorization": f"Bearer {token}"} if token else None,
        )
    elif config.url:
        backend = SqlBackend(config.url, timeout=config.timeout)
    if clock is not None:
        calendar = replace(calendar, clock=clock)
    try:
        yield Services(
            backend=count(backend) if count is not None else backend,
            counters=counters,
            calendar=calendar,
            region=settings.hotline.region,
            nuisance=nuisance,
        )
    finally:
        if backend is not counters:
            await backend.close()
        await counters.close()
