"""What each event of a caller's (or a callback's) way through the ACD writes to the store.

Each function is the whole of one transaction: the call's row, its agent's state (with
the state-log line) and the queue-log line change together or not at all. Every change
of a call's row is a compare-and-set on its state (and, where an agent is named, on the
agent it is reserved for), so an event that comes late, after another instance or a
repair moved the call on, changes nothing. What the instance keeps in memory (tickets, the
dispatcher's mirror) is :class:`acd.service.acd.Acd`'s business, after the commit.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.agents import AgentEvent, TransitionError
from acd.config import CallbackSettings
from acd.service.agent_writes import AgentWrites
from acd.service.tickets import Ticket
from acd.store.agent_rows import StaleAgent
from acd.store.call_rows import (
    CallRecord,
    delete_call,
    insert_call,
    load_call,
    log_queue,
    move_call,
)
from acd.store.tables import NOT_ANSWERED, WaitingCallRow

__all__ = [
    "answer",
    "end_callback",
    "enter",
    "finish",
    "leave",
    "overflow",
    "ring_out",
    "set_priority",
    "to_callback",
]

# What ends an agent's part when the caller leaves: ringing, the reservation is cancelled
# (no miss); answered just as the caller hung up, the agent's call is over.
_LEFT_AGENT = {"offered": AgentEvent.RESERVATION_CANCELLED, "answered": AgentEvent.CALL_END}


async def enter(
    conn: AsyncConnection, ticket: Ticket, *, instance: str, channel: str, unique_id: str
) -> None:
    """The caller joins the ticket's queue, held by ``instance``."""
    await insert_call(
        conn,
        call_id=ticket.call_id,
        queue=ticket.queue,
        priority=ticket.priority,
        at=ticket.entered_at,
        instance=instance,
        caller=ticket.caller,
        channel=channel,
        unique_id=unique_id,
    )
    detail = f"priority={ticket.priority}"
    await log_queue(conn, ticket.call_id, ticket.queue, "enter", ticket.entered_at, detail=detail)


async def answer(
    conn: AsyncConnection,
    agent_writes: AgentWrites,
    call_id: str,
    agent_id: str,
    kind: str,
    at: float,
) -> CallRecord | None:
    """The agent picked up the call of ``kind`` offered to it; None (nothing written) when
    no such call is offered to that agent any more."""
    record = await load_call(conn, call_id)
    if (
        record is None
        or record.kind != kind
        or record.state != "offered"
        or record.reserved_agent != agent_id
    ):
        return None
    await agent_writes.apply(conn, agent_id, AgentEvent.ANSWER, at, call_id=call_id)
    await move_call(conn, call_id, "offered", state="answered")
    wait = at - record.call.entered_at
    await log_queue(conn, call_id, record.queue, "answer", at, agent_id=agent_id, wait_s=wait)
    return record


async def ring_out(
    conn: AsyncConnection,
    agent_writes: AgentWrites,
    call_id: str,
    agent_id: str,
    at: float,
    *,
    why: str,
    miss: bool,
) -> None:
    """The call offered to ``agent_id`` goes back in line, in its place. ``miss``: the
    agent let it ring out (a missed call, and never offered it again); otherwise the
    reservation is merely cancelled. A late ring-out (the call is no longer offered to
    that agent) leaves the call as it is: only the agent's event is applied, if its
    state allows it."""
    event = AgentEvent.RING_NO_ANSWER if miss else AgentEvent.RESERVATION_CANCELLED
    record = await load_call(conn, call_id, lock=agent_writes.lock_rows)
    with contextlib.suppress(TransitionError, StaleAgent):
        await agent_writes.apply(conn, agent_id, event, at, call_id=call_id)
    if record is None:
        return
    declined = set(record.call.declined_by)
    moved = await move_call(
        conn,
        call_id,
        "offered",
        if_agent=agent_id,
        state="waiting",
        reserved_agent=None,
        declined_by=sorted(declined | {agent_id} if miss else declined),
    )
    if moved:
        await log_queue(
            conn, call_id, record.queue, "ring-no-answer", at, agent_id=agent_id, detail=why
        )


async def finish(
    conn: AsyncConnection, agent_writes: AgentWrites, ticket: Ticket, agent_id: str, at: float
) -> None:
    """The caller's talk with the agent is over: the agent's wrap-up, the row goes."""
    talk = None if ticket.answered_at is None else at - ticket.answered_at
    await agent_writes.end_call(
        conn, agent_id, ticket.call_id, at, agent_writes.wrap_up_s(ticket.queue)
    )
    await delete_call(conn, ticket.call_id)
    await log_queue(
        conn, ticket.call_id, ticket.queue, "complete", at, agent_id=agent_id, talk_s=talk
    )


async def end_callback(
    conn: AsyncConnection,
    agent_writes: AgentWrites,
    record: CallRecord,
    agent_id: str,
    customer: str,
    at: float,
    rules: CallbackSettings,
) -> None:
    """A callback's agent leg is over; ``customer`` is the Dial status of the customer.
    ANSWER: done, the agent's wrap-up. Otherwise the agent is free at once and the callback
    waits ``retry_after_s`` to be tried again, unless it has had ``max_attempts``."""
    attempts = record.attempts + 1
    wrap_up = agent_writes.wrap_up_s(record.queue) if customer == "ANSWER" else 0.0
    await agent_writes.end_call(conn, agent_id, record.id, at, wrap_up)
    if customer == "ANSWER" or attempts >= rules.max_attempts:
        await delete_call(conn, record.id)
        outcome = "answered" if customer == "ANSWER" else f"gave up: {customer}"
    else:
        await move_call(
            conn,
            record.id,
            ("answered", "offered"),
            state="waiting",
            reserved_agent=None,
            attempts=attempts,
            not_before=at + rules.retry_after_s,
        )
        outcome = f"{customer}, again in {rules.retry_after_s:g} s"
    detail = f"to {record.callback_number} attempt {attempts}: {outcome}"
    await log_queue(
        conn, record.id, record.queue, "callback-made", at, agent_id=agent_id, detail=detail
    )


async def leave(
    conn: AsyncConnection, agent_writes: AgentWrites, call_id: str, at: float, why: str
) -> bool:
    """The caller left before an agent answered: the row goes and an agent it was offered
    to (or that answered just then) is freed. False if the row was gone already."""
    record = await load_call(conn, call_id, lock=agent_writes.lock_rows)
    if record is None:
        return False
    event = _LEFT_AGENT.get(record.state)
    if event is not None and record.reserved_agent:
        with contextlib.suppress(TransitionError, StaleAgent):
            await agent_writes.apply(conn, record.reserved_agent, event, at, call_id=call_id)
    await delete_call(conn, call_id)
    wait = at - record.call.entered_at
    await log_queue(conn, call_id, record.queue, "abandon", at, wait_s=wait, detail=why)
    return True


async def overflow(conn: AsyncConnection, ticket: Ticket, queue: str, at: float) -> bool:
    """A waiting call moves to ``queue``, keeping its age; that queue's clocks start at
    ``at``. False if it is not waiting any more."""
    moved = await move_call(conn, ticket.call_id, "waiting", queue=queue, queued_at=at)
    if moved:
        await log_queue(conn, ticket.call_id, ticket.queue, "overflow", at, detail=f"to {queue}")
    return moved


async def to_callback(
    conn: AsyncConnection, ticket: Ticket, number: str, at: float, *, instance: str
) -> bool:
    """A waiting caller's row becomes a callback to ``number``, in the same place, made by
    ``instance``. False if it is not a waiting caller any more."""
    moved = await move_call(
        conn,
        ticket.call_id,
        "waiting",
        if_kind="caller",
        kind="callback",
        callback_number=number,
        instance=instance,
    )
    if moved:
        detail = f"to {number}"
        await log_queue(conn, ticket.call_id, ticket.queue, "callback-offered", at, detail=detail)
    return moved


async def set_priority(conn: AsyncConnection, queue: str, priority: int) -> int:
    """Every call waiting or offered in ``queue`` gets ``priority``; how many rows changed."""
    result = await conn.execute(
        update(WaitingCallRow)
        .where(WaitingCallRow.queue == queue, WaitingCallRow.state.in_(NOT_ANSWERED))
        .values(priority=priority)
    )
    return int(result.rowcount or 0)
