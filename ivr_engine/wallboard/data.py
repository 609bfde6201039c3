"""The wallboard's reader: snapshots on a read-only database engine of its own, returned
as the dict that the page and ``GET /api/v1/wallboard`` get."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from acd.config import AcdConfig
from acd.figures import day_start
from acd.service_level import ServiceLevelDefinition
from ground.database import make_engine
from ivr_engine.wallboard.figures import JournalDay, LiveCalls
from ivr_engine.wallboard.snapshot import take_snapshot

__all__ = ["WallboardData"]


class WallboardData:
    """Takes snapshots on a database engine of its own, read-only, so the wallboard never
    holds the write lock the ACD's transactions take on SQLite.

    Today's journal figures (a scan of the day's calls) are read at most every
    ``journal_every`` seconds and reused in between; the rest is read every time.
    """

    def __init__(
        self,
        url: str,
        *,
        config: AcdConfig | None,
        service_level: ServiceLevelDefinition,
        timezone: ZoneInfo,
        live: Callable[[], LiveCalls] = LiveCalls,
        clock: Callable[[], float] = time.time,
        journal_every: float = 5.0,
        timeout: float = 5.0,
    ) -> None:
        self.config = config
        self.service_level = service_level
        self.timezone = timezone
        self.live = live
        self.clock = clock
        self.journal_every = journal_every
        self._engine: AsyncEngine = make_engine(
            url, connect_timeout=timeout, command_timeout=timeout
        )
        self._journal: tuple[float, str, JournalDay] | None = None  # monotonic, day, figures
        self._lock = asyncio.Lock()

    async def take(self) -> dict[str, Any]:
        async with self._lock:  # the hub and the JSON route share one reader at a time
            now = self.clock()
            day = day_start(now, self.timezone).date().isoformat()
            cached = self._journal
            fresh = (
                cached is not None
                and cached[1] == day
                and time.monotonic() - cached[0] < self.journal_every
            )
            async with self._engine.connect() as conn:
                snapshot = await take_snapshot(
                    conn,
                    config=self.config,
                    service_level=self.service_level,
                    timezone=self.timezone,
                    now=now,
                    live=self.live(),
                    journal=cached[2] if fresh and cached is not None else None,
                )
            if not fresh:
                ivr = snapshot.ivr
                figures = JournalDay(ivr.calls_today, ivr.ended_today, ivr.top_exits)
                self._journal = (time.monotonic(), day, figures)
            return snapshot.as_dict()

    async def close(self) -> None:
        await self._engine.dispose()
