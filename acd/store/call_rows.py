"""Waiting calls in SQL (``waiting_calls``) and the queue log (``queue_log``).

A row is a caller waiting on the line (``kind`` caller) or a callback owed to one
(``kind`` callback). Its ``state``: ``waiting`` (routable), ``offered`` (an agent is
reserved for it and its phone rings), then ``answered``, ``abandoned`` or ``callback``
(a caller who took the callback offer: the row lives on as a new callback row).
Moving a call on is a compare-and-set on its state, so two instances can never offer the
same call twice. The owner (``instance``) is the engine that holds the caller's FastAGI
session, or runs the callback; any instance may offer an agent to any call.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Update, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.agents import epoch_seconds, utc_datetime
from acd.routing import WaitingCall
from acd.store.tables import NOT_ANSWERED, AcdBase, QueueLogRow, WaitingCallRow

__all__ = [
    "CallRecord",
    "delete_call",
    "existing_calls",
    "insert_call",
    "load_call",
    "load_calls",
    "log_queue",
    "move_call",
    "recent_talk",
    "waiting_ahead",
]

W = WaitingCallRow


@dataclass(frozen=True)
class CallRecord:
    """A ``waiting_calls`` row: the routing view plus who owns it and what it is."""

    call: WaitingCall
    state: str
    kind: str
    instance: str
    reserved_agent: str | None
    caller: str
    channel: str
    unique_id: str
    callback_number: str | None
    attempts: int
    not_before: float | None

    @property
    def id(self) -> str:
        return self.call.id

    @property
    def queue(self) -> str:
        return self.call.queue


def _record(row: Any) -> CallRecord:
    call = WaitingCall(
        id=row.call_id,
        queue=row.queue,
        priority=row.priority,
        entered_at=epoch_seconds(row.entered_at),
        declined_by=frozenset(row.declined_by or ()),
        queued_at=epoch_seconds(row.queued_at),
    )
    not_before = None if row.not_before is None else epoch_seconds(row.not_before)
    return CallRecord(
        call,
        row.state,
        row.kind,
        row.instance,
        row.reserved_agent,
        row.caller,
        row.channel,
        row.unique_id,
        row.callback_number,
        row.attempts,
        not_before,
    )


_CALLS = AcdBase.metadata.tables["waiting_calls"]
C = _CALLS.c  # Core columns: statements built once, executed with parameters
_ROW = tuple(column for column in _CALLS.c if column.name != "changed")
_INSERT = insert(_CALLS)
_BY_ID = select(*_ROW).where(C.call_id == bindparam("call_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
_DELETE = delete(_CALLS).where(C.call_id == bindparam("call_id"))
_LOG = insert(AcdBase.metadata.tables["queue_log"])


@functools.cache
def _calls_query(
    state: bool, instance: bool, due: bool, ids: bool, changed: bool, skip_locked: bool
) -> Select[Any]:
    # Read by mark, the feed's rows come from the index on it, not from a scan of all.
    order = (C.changed, C.call_id) if changed else (C.entered_at, C.call_id)
    query = select(*_ROW).order_by(*order)
    if state:
        query = query.where(C.state == bindparam("state"))
    if instance:
        query = query.where(C.instance == bindparam("instance"))
    if due:
        query = query.where(or_(C.not_before.is_(None), C.not_before <= bindparam("due_at")))
    if ids:
        query = query.where(C.call_id.in_(bindparam("ids", expanding=True)))
    if changed:
        query = query.where(C.changed >= bindparam("changed_since"))
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return query


@functools.cache
def _move_query(columns: tuple[str, ...], if_agent: bool, if_kind: bool) -> Update:
    query = update(_CALLS).where(
        C.call_id == bindparam("b_call_id"), C.state.in_(bindparam("b_states", expanding=True))
    )
    if if_agent:
        query = query.where(C.reserved_agent == bindparam("b_agent"))
    if if_kind:
        query = query.where(C.kind == bindparam("b_kind"))
    return query.values({column: bindparam(column) for column in columns})


async def insert_call(
    conn: AsyncConnection,
    *,
    call_id: str,
    queue: str,
    priority: int,
    at: float,
    instance: str,
    caller: str = "",
    channel: str = "",
    unique_id: str = "",
    kind: str = "caller",
    callback_number: str | None = None,
    entered_at: float | None = None,
) -> None:
    await conn.execute(
        _INSERT,
        {
            "call_id": call_id,
            "queue": queue,
            "priority": priority,
            "entered_at": utc_datetime(at if entered_at is None else entered_at),
            "queued_at": utc_datetime(at),
            "declined_by": [],
            "state": "waiting",
            "instance": instance,
            "caller": caller,
            "channel": channel,
            "unique_id": unique_id,
            "kind": kind,
            "callback_number": callback_number,
        },
    )


async def load_call(
    conn: AsyncConnection, call_id: str, *, lock: bool = False
) -> CallRecord | None:
    """The call's row; ``lock``: held until the transaction ends (PostgreSQL), so a
    matching pass cannot offer it meanwhile."""
    query = _BY_ID_LOCKED if lock else _BY_ID
    row = (await conn.execute(query, {"call_id": call_id})).one_or_none()
    return None if row is None else _record(row)


async def load_calls(
    conn: AsyncConnection,
    *,
    state: str | None = "waiting",
    instance: str | None = None,
    due_at: float | None = None,
    ids: Collection[str] | None = None,
    changed_since: int | None = None,
    skip_locked: bool = False,
) -> list[CallRecord]:
    """Calls in ``state`` (of ``instance``; with these ``ids``; marked ``changed_since`` or
    later, see :mod:`acd.store.changes`); ``due_at``: callbacks not due yet left out;
    ``skip_locked`` locks the rows read and leaves out those another transaction holds."""
    query = _calls_query(
        state is not None,
        instance is not None,
        due_at is not None,
        ids is not None,
        changed_since is not None,
        skip_locked,
    )
    params: dict[str, Any] = {}
    if state is not None:
        params["state"] = state
    if instance is not None:
        params["instance"] = instance
    if due_at is not None:
        params["due_at"] = utc_datetime(due_at)
    if ids is not None:
        params["ids"] = list(ids)
    if changed_since is not None:
        params["changed_since"] = changed_since
    return [_record(row) for row in await conn.execute(query, params)]


async def existing_calls(conn: AsyncConnection, ids: Collection[str]) -> set[str]:
    """Which of ``ids`` have a row (without locking anything)."""
    query = select(W.call_id).where(W.call_id.in_(list(ids)))
    return set((await conn.scalars(query)).all())


async def move_call(
    conn: AsyncConnection,
    call_id: str,
    from_state: str | tuple[str, ...],
    *,
    if_agent: str | None = None,
    if_kind: str | None = None,
    **values: Any,
) -> bool:
    """Change the call if it is still in ``from_state`` (and still reserved for
    ``if_agent``, still of ``if_kind``, when given); False if another writer got there first.

    ``values`` are columns; datetimes may be given as epoch seconds (``queued_at`` ...).
    """
    states = (from_state,) if isinstance(from_state, str) else from_state
    for column in ("queued_at", "not_before"):
        if isinstance(values.get(column), float | int):
            values[column] = utc_datetime(float(values[column]))
    query = _move_query(tuple(sorted(values)), if_agent is not None, if_kind is not None)
    params: dict[str, Any] = {"b_call_id": call_id, "b_states": list(states), **values}
    if if_agent is not None:
        params["b_agent"] = if_agent
    if if_kind is not None:
        params["b_kind"] = if_kind
    result = await conn.execute(query, params)
    return bool(result.rowcount == 1)


async def delete_call(conn: AsyncConnection, call_id: str) -> None:
    await conn.execute(_DELETE, {"call_id": call_id})


async def waiting_ahead(conn: AsyncConnection, call: WaitingCall) -> int:
    """How many calls of the same queue wait ahead of ``call`` (higher priority, or the same
    priority and longer waiting)."""
    entered = utc_datetime(call.entered_at)
    query = select(func.count()).where(
        W.queue == call.queue,
        W.state.in_(NOT_ANSWERED),
        W.call_id != call.id,
        or_(
            W.priority > call.priority,
            (W.priority == call.priority) & (W.entered_at <= entered),
        ),
    )
    return int((await conn.execute(query)).scalar_one())


async def recent_talk(conn: AsyncConnection, queue: str, last: int = 50) -> float | None:
    """The mean talk time of the queue's last ``last`` completed calls (None: no history)."""
    recent = (
        select(QueueLogRow.talk_s)
        .where(
            QueueLogRow.queue == queue,
            QueueLogRow.event == "complete",
            QueueLogRow.talk_s.is_not(None),
        )
        .order_by(QueueLogRow.id.desc())
        .limit(last)
        .subquery()
    )
    value = (await conn.execute(select(func.avg(recent.c.talk_s)))).scalar_one()
    return None if value is None else float(value)


async def log_queue(
    conn: AsyncConnection,
    call_id: str,
    queue: str,
    event: str,
    at: float,
    *,
    agent_id: str | None = None,
    wait_s: float | None = None,
    talk_s: float | None = None,
    detail: str = "",
) -> None:
    """One line of the queue log (the history reports read)."""
    await conn.execute(
        _LOG,
        {
            "call_id": call_id,
            "queue": queue,
            "event": event,
            "agent_id": agent_id,
            "at": utc_datetime(at),
            "wait_s": wait_s,
            "talk_s": talk_s,
            "detail": detail,
        },
    )
