"""An agent event as the ACD's operations write it, inside their own transaction.

Every operation that moves an agent (a caller's event, an agent's own, a repair) applies
the event through :func:`acd.store.agent_rows.transition` under the configured policy,
and on PostgreSQL reads the agent's row ``FOR UPDATE`` first, so two instances changing
one agent take turns instead of one failing on a stale version.
"""

from __future__ import annotations

import contextlib

from sqlalchemy.ext.asyncio import AsyncConnection

from acd.agents import AgentEvent, StateChange, TransitionError
from acd.config import AcdConfig
from acd.store.agent_rows import AgentRecord, StaleAgent, transition

__all__ = ["AgentWrites"]


class AgentWrites:
    """``lock_rows``: read the rows an operation changes ``FOR UPDATE`` (PostgreSQL)."""

    def __init__(self, config: AcdConfig, *, lock_rows: bool) -> None:
        self._config = config
        self.lock_rows = lock_rows

    async def apply(
        self,
        conn: AsyncConnection,
        agent_id: str,
        event: AgentEvent | str,
        at: float,
        *,
        reason: str | None = None,
        call_id: str | None = None,
        wrap_up_seconds: float = 0.0,
    ) -> tuple[AgentRecord, StateChange]:
        """Apply one event (``TransitionError`` if refused, ``StaleAgent`` if the row
        changed under it)."""
        return await transition(
            conn,
            agent_id,
            event,
            at,
            policy=self._config.policy,
            reason=reason,
            call_id=call_id,
            wrap_up_seconds=wrap_up_seconds,
            lock=self.lock_rows,
        )

    async def end_call(
        self, conn: AsyncConnection, agent_id: str, call_id: str, at: float, wrap_up: float
    ) -> None:
        """The agent's call is over (unless the agent moved on meanwhile)."""
        with contextlib.suppress(TransitionError, StaleAgent):
            await self.apply(
                conn, agent_id, AgentEvent.CALL_END, at, call_id=call_id, wrap_up_seconds=wrap_up
            )

    def wrap_up_s(self, queue: str | None) -> float:
        """The wrap-up seconds after a call of ``queue`` (0 for one no longer configured)."""
        settings = self._config.queues.get(queue or "")
        return settings.wrap_up_s if settings is not None else 0.0
