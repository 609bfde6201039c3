"""Agents in SQL: an ``agents`` row as an :class:`acd.agents.AgentStatus` and back, and one
validated transition written with its state-log line.

Every write is a compare-and-set on the row's ``version``: the row changes only if nobody
wrote it since it was read, so two engine instances (or two tasks of one) can never both
move the same agent. A lost race raises :class:`StaleAgent`; the caller reads again and
retries, or gives up when the event no longer applies.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update
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
from acd.routing import Requirements
from acd.store.tables import AcdBase, AgentRow, AgentSkillRow

__all__ = [
    "AgentRecord",
    "StaleAgent",
    "UnknownAgent",
    "count_staffed",
    "existing_agents",
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


_AGENTS = AcdBase.metadata.tables["agents"]
A = _AGENTS.c  # Core columns: statements built once, executed with parameters

_COLUMNS = (
    A.id,
    A.state,
    A.state_since,
    A.pause_reason,
    A.pending,
    A.missed_in_row,
    A.last_call_end,
    A.calls_today,
    A.wrap_up_until,
    A.current_call,
    A.idle_since,
    A.version,
    A.endpoint,
)

_BY_ID = select(*_COLUMNS).where(A.id == bindparam("agent_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
_UPDATE_STATUS = (
    update(_AGENTS)
    .where(A.id == bindparam("b_id"), A.version == bindparam("b_version"))
    .values(
        {
            column: bindparam(column)
            for column in (
                "state",
                "state_since",
                "pause_reason",
                "pending",
                "missed_in_row",
                "last_call_end",
                "calls_today",
                "wrap_up_until",
                "current_call",
                "idle_since",
                "version",
            )
        }
    )
)
_LOG_CHANGE = insert(AcdBase.metadata.tables["agent_state_log"])


@functools.cache
def _agents_query(states: bool, ids: bool, changed: bool, skip_locked: bool) -> Select[Any]:
    # Read by mark, the feed's rows come from the index on it, not from a scan of all.
    query = select(*_COLUMNS).order_by(*((A.changed, A.id) if changed else (A.id,)))
    if states:
        query = query.where(A.state.in_(bindparam("states", expanding=True)))
    if ids:
        query = query.where(A.id.in_(bindparam("ids", expanding=True)))
    if changed:
        query = query.where(A.changed >= bindparam("changed_since"))
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return query


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
    query = _BY_ID_LOCKED if lock else _BY_ID
    row = (await conn.execute(query, {"agent_id": agent_id})).one_or_none()
    if row is None:
        raise UnknownAgent(f"no agent {agent_id!r}")
    return _record(row)


async def load_agents(
    conn: AsyncConnection,
    *,
    states: tuple[AgentState, ...] | None = None,
    ids: Collection[str] | None = None,
    changed_since: int | None = None,
    skip_locked: bool = False,
) -> list[AgentRecord]:
    """Agents (in ``states`` only, with these ``ids`` only, marked ``changed_since`` or
    later only, if given: see :mod:`acd.store.changes`); ``skip_locked`` locks the rows
    read and leaves out those another transaction holds (PostgreSQL; SQLite ignores it:
    it has one writer at a time)."""
    query = _agents_query(
        states is not None, ids is not None, changed_since is not None, skip_locked
    )
    params: dict[str, Any] = {}
    if states is not None:
        params["states"] = [s.value for s in states]
    if ids is not None:
        params["ids"] = list(ids)
    if changed_since is not None:
        params["changed_since"] = changed_since
    return [_record(row) for row in await conn.execute(query, params)]


async def existing_agents(conn: AsyncConnection, ids: Collection[str]) -> set[str]:
    """Which of ``ids`` have a row (without locking anything)."""
    query = select(AgentRow.id).where(AgentRow.id.in_(list(ids)))
    return set((await conn.scalars(query)).all())


async def count_staffed(conn: AsyncConnection, requirements: Requirements) -> int:
    """How many logged-in agents have every required skill at its level or higher."""
    query = select(func.count()).select_from(AgentRow)
    query = query.where(AgentRow.state != AgentState.LOGGED_OUT.value)
    for need in requirements:
        query = query.where(
            select(AgentSkillRow.agent_id)
            .where(
                AgentSkillRow.agent_id == AgentRow.id,
                AgentSkillRow.skill == need.skill,
                AgentSkillRow.level >= need.min_level,
            )
            .exists()
        )
    return int((await conn.execute(query)).scalar_one())


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
        _UPDATE_STATUS, {"b_id": new.agent_id, "b_version": record.version, **values}
    )
    if result.rowcount != 1:
        raise StaleAgent(f"agent {new.agent_id} changed meanwhile")
    await conn.execute(
        _LOG_CHANGE,
        {
            "agent_id": change.agent_id,
            "from_state": change.from_state.value,
            "to_state": change.to_state.value,
            "event": change.event.value,
            "reason": change.reason,
            "at": utc_datetime(change.at),
            "call_id": call_id,
        },
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
