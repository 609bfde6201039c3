"""Watch the event loop's responsiveness: how late a short periodic sleep wakes up.

If anything blocks the loop (a stuck read, a slow synchronous call), every call in the
engine stalls with it; this monitor makes that visible in the health check.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ground.tasks import cancel_and_wait


class LoopMonitor:
    def __init__(self, period: float = 0.05) -> None:
        self.period = period
        self.last_lag = 0.0
        self.max_lag = 0.0
        self.tasks = 0  # asyncio tasks alive at the last wake-up (a leak shows as growth)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="loop-monitor")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    def health(self) -> dict[str, Any]:
        return {
            "lag_ms": round(self.last_lag * 1000, 1),
            "max_lag_ms": round(self.max_lag * 1000, 1),
            "tasks": self.tasks,
        }

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.period)
            self.last_lag = max(0.0, loop.time() - before - self.period)
            self.max_lag = max(self.max_lag, self.last_lag)
            self.tasks = len(asyncio.all_tasks(loop))
