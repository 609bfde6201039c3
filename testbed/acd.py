"""The ACD of an engine under test, seen and set through its database.

:class:`AcdProbe` works on an :class:`~testbed.engine.EngineProcess`'s database with
the ACD's own service layer (``acd.service.acd.Acd``), exactly as another engine instance
or the operations API would: agent events are validated and logged, and the engine sees
them at its next matching pass. ``reset()`` is test set-up only: every agent logged out
and no call waiting, written straight to the tables.

Synchronous (each call runs its own event loop in a worker thread), so tests call it from
async code without touching the test's loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, select, update

from acd.config import AcdConfig, load_config
from acd.service.acd import Acd
from acd.store.tables import AgentRow, AgentStateLogRow, QueueLogRow, WaitingCallRow
from ground.paths import PROJECT_ROOT
from testbed.engine import EngineProcess

T = TypeVar("T")


class AcdProbe:
    def __init__(self, engine: EngineProcess, url: str | None = None) -> None:
        # ``url``: the same database another way (not through a proxy a test cuts, say).
        self.url = url or engine.env["IVR_ENGINE_DATABASE__URL"]
        path = engine.env.get("IVR_ENGINE_ACD__CONFIG", "config/acd.yaml")
        self.config: AcdConfig = load_config(PROJECT_ROOT / path)

    def _run(self, work: Callable[[Acd], Awaitable[T]]) -> T:
        async def go() -> T:
            acd = Acd(self.url, self.config, "test-probe")
            try:
                return await work(acd)
            finally:
                await acd.stop()

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, go()).result(timeout=30)

    # -- agents ---------------------------------------------------------------------------
    def event(self, agent: str, event: str, reason: str | None = None) -> str:
        """Apply an agent event; the new state."""

        async def work(acd: Acd) -> str:
            change = await acd.agent_event(agent, event, reason=reason)
            return change.to_state.value

        return self._run(work)

    def log_in(self, *agents: str) -> None:
        for agent in agents:
            self.event(agent, "log_in")

    def states(self) -> dict[str, str]:
        async def work(acd: Acd) -> dict[str, str]:
            return {r.status.agent_id: r.status.state.value for r in await acd.agents()}

        return self._run(work)

    def agent(self, agent: str) -> dict[str, Any]:
        """The agent's row as a dict (state, pause_reason, missed_in_row, ...)."""

        async def work(acd: Acd) -> dict[str, Any]:
            async with acd.transaction() as conn:
                row = (await conn.execute(select(AgentRow).where(AgentRow.id == agent))).one()
            return dict(row._mapping)

        return self._run(work)

    def wait_state(self, agent: str, state: str, timeout: float = 20.0) -> float:
        """Wait until the agent is in ``state``; returns the time it took."""
        started = time.monotonic()
        while True:
            now = self.states().get(agent)
            if now == state:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise AssertionError(f"agent {agent} is {now}, not {state}, after {timeout}s")
            time.sleep(0.2)

    def state_log(self, agent: str, since: datetime | None = None) -> list[dict[str, Any]]:
        async def work(acd: Acd) -> list[dict[str, Any]]:
            query = select(AgentStateLogRow).where(AgentStateLogRow.agent_id == agent)
            if since is not None:
                query = query.where(AgentStateLogRow.at >= since)
            async with acd.transaction() as conn:
                rows = await conn.execute(query.order_by(AgentStateLogRow.id))
            return [dict(r._mapping) for r in rows]

        return self._run(work)

    # -- calls ----------------------------------------------------------------------------
    def queue_log(
        self, call_id: str | None = None, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        async def work(acd: Acd) -> list[dict[str, Any]]:
            query = select(QueueLogRow).order_by(QueueLogRow.id)
            if call_id is not None:
                query = query.where(QueueLogRow.call_id == call_id)
            if since is not None:
                query = query.where(QueueLogRow.at >= since)
            async with acd.transaction() as conn:
                rows = await conn.execute(query)
            return [dict(r._mapping) for r in rows]

        return self._run(work)

    def waiting(self) -> list[dict[str, Any]]:
        async def work(acd: Acd) -> list[dict[str, Any]]:
            async with acd.transaction() as conn:
                rows = await conn.execute(
                    select(WaitingCallRow).order_by(WaitingCallRow.entered_at)
                )
            return [dict(r._mapping) for r in rows]

        return self._run(work)

    def reset(self) -> None:
        """Test set-up: every agent logged out, nothing waiting, nothing pending."""

        async def work(acd: Acd) -> None:
            async with acd.transaction() as conn:
                await conn.execute(delete(WaitingCallRow))
                await conn.execute(
                    update(AgentRow).values(
                        state="logged-out",
                        state_since=datetime.now(UTC),
                        pause_reason=None,
                        pending=None,
                        missed_in_row=0,
                        wrap_up_until=None,
                        current_call=None,
                        version=AgentRow.version + 1,
                    )
                )

        self._run(work)
