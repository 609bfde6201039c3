"""Agents in SQL: an ``agents`` row as an :class:`acd.agents.AgentStatus` and back, and one
validated transition written with its state-log line.

Every write is a compare-and-set on the row's ``version``: the row changes only if nobody
wrote it since it was read, so two engine instances (or two tasks of one) can never both
move the same agent. A lost race raises :class:`StaleAgent`; the caller reads again and
retries, or gives up when the event no longer applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.agents import (
    AgentEvent,
    AgentPolicy,
    AgentState,
    AgentStatus,
    Pending,
    PendingKind,
    StateChange,
    apply,
    epoch_seconds,
    utc_datetime,
)
from acd.store.tables import AgentRow, AgentSkillRow, AgentStateLogRow

__all__ = [
    "AgentRecord",
    "StaleAgent",
    "UnknownAgent",
    "load_agent",
    "load_agents",
    "load_skills",
    "transition",
    "write_status",
]


class StaleAgent(Exception):
    """The agent's row changed between read and write (another writer won)."""


class UnknownAgent(LookupError):
    """No agent with that id is configured."""


@dataclass(frozen=True)
class AgentRecord:
    """An agent as stored: its live status, the row version, endpoint and idle time."""

    status: AgentStatus
    version: int
    endpoint: str
    idle_since: float


def _ts(value: datetime | None) -> float | None:
    return None if value is None else epoch_seconds(value)


def _dt(value: float | None) -> datetime | None:
    return None if value is None else utc_datetime(value)


def _pending(raw: dict[str, Any] | None) -> Pending | None:
    if not raw:
        return None
    return Pending(PendingKind(raw["kind"]), raw.get("reason"), bool(raw.get("forced")))


def _pending_json(pending: Pending | None) -> dict[str, Any] | None:
    if pending is None:
        return None
    return {"kind": pending.kind.value, "reason": pending.reason, "forced": pending.forced}


_COLUMNS = (
    AgentRow.id,
    AgentRow.state,
    AgentRow.state_since,
    AgentRow.pause_reason,
    AgentRow.pending,
    AgentRow.missed_in_row,
    AgentRow.last_call_end,
    AgentRow.calls_today,
    AgentRow.wrap_up_until,
    AgentRow.current_call,
    AgentRow.idle_since,
    AgentRow.version,
    AgentRow.endpoint,
)


def _record(row: Any) -> AgentRecord:
    since = epoch_seconds(row.state_since)
    status = AgentStatus(
        agent_id=row.id,
        state=AgentState(row.state),
        since=since,
        pause_reason=row.pause_reason,
        pending=_pending(row.pending),
        missed_in_row=row.missed_in_row,
        last_call_end=_ts(row.last_call_end),
        calls_today=row.calls_today,
        wrap_up_until=_ts(row.wrap_up_until),
        current_call=row.current_call,
    )
    idle = _ts(row.idle_since)
    return AgentRecord(status, row.version, row.endpoint, since if idle is None else idle)


async def load_agent(conn: AsyncConnection, agent_id: str, *, lock: bool = False) -> AgentRecord:
    query = select(*_COLUMNS).where(AgentRow.id == agent_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).one_or_none()
    if row is None:
        raise UnknownAgent(f"no agent {agent_id!r}")
    return _record(row)


async def load_agents(
    conn: AsyncConnection,
    *,
    states: tuple[AgentState, ...] | None = None,
    skip_locked: bool = False,
) -> list[AgentRecord]:
    """Agents (in ``states`` only, if given); ``skip_locked`` leaves out rows another
    transaction holds (PostgreSQL; SQLite ignores it: it has one writer at a time)."""
    query = select(*_COLUMNS).order_by(AgentRow.id)
    if states is not None:
        query = query.where(AgentRow.state.in_([s.value for s in states]))
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return [_record(row) for row in await conn.execute(query)]


async def load_skills(
    conn: AsyncConnection, agent_ids: list[str] | None = None
) -> dict[str, dict[str, int]]:
    """Agent id -> skill -> level."""
    query = select(AgentSkillRow.agent_id, AgentSkillRow.skill, AgentSkillRow.level)
    if agent_ids is not None:
        query = query.where(AgentSkillRow.agent_id.in_(agent_ids))
    skills: dict[str, dict[str, int]] = {}
    for agent_id, skill, level in await conn.execute(query):
        skills.setdefault(agent_id, {})[skill] = level
    return skills


async def write_status(
    conn: AsyncConnection,
    record: AgentRecord,
    new: AgentStatus,
    change: StateChange,
    call_id: str | None,
) -> AgentRecord:
    """Store ``new`` if the row is still at ``record.version``, and log ``change``."""
    idle = (
        change.at
        if new.state is AgentState.AVAILABLE and change.to_state != change.from_state
        else record.idle_since
    )
    values = {
        "state": new.state.value,
        "state_since": utc_datetime(new.since),
        "pause_reason": new.pause_reason,
        "pending": _pending_json(new.pending),
        "missed_in_row": new.missed_in_row,
        "last_call_end": _dt(new.last_call_end),
        "calls_today": new.calls_today,
        "wrap_up_until": _dt(new.wrap_up_until),
        "current_call": new.current_call,
        "idle_since": utc_datetime(idle),
        "version": record.version + 1,
    }
    result = await conn.execute(
        update(AgentRow)
        .where(AgentRow.id == new.agent_id, AgentRow.version == record.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleAgent(f"agent {new.agent_id} changed meanwhile")
    await conn.execute(
        insert(AgentStateLogRow).values(
            agent_id=change.agent_id,
            from_state=change.from_state.value,
            to_state=change.to_state.value,
            event=change.event.value,
            reason=change.reason,
            at=utc_datetime(change.at),
            call_id=call_id,
        )
    )
    return AgentRecord(new, record.version + 1, record.endpoint, idle)


async def transition(
    conn: AsyncConnection,
    agent_id: str,
    event: AgentEvent | str,
    at: float,
    *,
    policy: AgentPolicy,
    reason: str | None = None,
    call_id: str | None = None,
    wrap_up_seconds: float = 0.0,
    lock: bool = False,
) -> tuple[AgentRecord, StateChange]:
    """Read the agent, apply one event (``TransitionError`` if refused), write it back."""
    record = await load_agent(conn, agent_id, lock=lock)
    new, change = apply(
        record.status,
        event,
        at,
        policy=policy,
        reason=reason,
        call_id=call_id,
        wrap_up_seconds=wrap_up_seconds,
    )
    logged_call = call_id or record.status.current_call
    return await write_status(conn, record, new, change, logged_call), change
