"""The ACD's figures for the metrics: agents by state; per queue, callers waiting, the
longest wait, callbacks owed, and today's answered and abandoned calls and service level.
They are the ACD's live figures (:mod:`acd.figures`), the same as the wallboard and
``GET /queues`` show, today's judged by the same settings: the hotline's time zone (the
day starts at its midnight) and the service-level definition (``reports.service_level``).

They are database reads, and Prometheus collects synchronously, so a small task owned by
:class:`AcdSnapshot` reads them every ``interval`` seconds and keeps the last good
snapshot; a scrape only reads that. While the database is away the snapshot ages
(``ivr_acd_snapshot_age_seconds``) and the ACD's own pass failures are counted as errors.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from acd.figures import QueueNow, Today, agents_by_state, day_start, queues_now, read_today
from acd.service_level import ServiceLevelDefinition
from ground.database import make_engine
from ground.tasks import cancel_and_wait

if TYPE_CHECKING:
    from acd.service.acd import Acd

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AcdFigures:
    taken_at: float  # time.monotonic()
    agents: dict[str, int]  # state -> agents
    queues: tuple[QueueNow, ...]
    today: Today  # each queue's answers and abandons since the hotline's midnight


class AcdSnapshot:
    """Reads the ACD's figures in the background. Today's come from the queue log on a
    database engine of its own, read-only, so the day's scan never holds the write lock
    the ACD's transactions take on SQLite (as the wallboard's reader); :meth:`stop`
    closes it."""

    def __init__(
        self,
        acd: Acd,
        *,
        service_level: ServiceLevelDefinition,
        timezone: ZoneInfo,
        interval: float = 5.0,
        timeout: float = 5.0,
    ) -> None:
        self.acd = acd
        self.service_level = service_level
        self.timezone = timezone
        self.interval = interval
        self.timeout = timeout
        self._reader = make_engine(acd.url, connect_timeout=timeout, command_timeout=timeout)
        self.figures: AcdFigures | None = None
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="metrics-acd-snapshot")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self._reader.dispose()

    async def refresh(self) -> AcdFigures:
        """Read the figures now (within ``timeout``) and keep them."""
        config = self.acd.config
        async with asyncio.timeout(self.timeout):
            agents = await self.acd.agents()
            calls = await self.acd.waiting()
            since = day_start(self.acd.clock(), self.timezone)
            async with self._reader.connect() as conn:
                today = await read_today(conn, since, self.service_level, config)
        queues = queues_now(config, agents, calls)
        self.figures = AcdFigures(time.monotonic(), agents_by_state(agents), queues, today)
        return self.figures

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh()
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                if self.last_error is None:
                    log.warning("metrics: ACD figures not read (%s); retrying", exc)
                self.last_error = f"{type(exc).__name__}: {exc}"
            else:
                if self.last_error is not None:
                    log.info("metrics: ACD figures read again")
                self.last_error = None
            await asyncio.sleep(self.interval)
