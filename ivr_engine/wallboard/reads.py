"""What the wallboard reads besides the ACD's live figures: today's calls from the call
journal, and the queue a call in wrap-up was in, from the queue log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.store.tables import QueueLogRow
from ivr_engine.journal.tables import CallRow, StepRow
from ivr_engine.wallboard.figures import ExitLine, JournalDay

__all__ = ["TOP_EXITS", "call_queues", "journal_day"]

TOP_EXITS = 5


async def journal_day(conn: AsyncConnection, since: datetime, top: int = TOP_EXITS) -> JournalDay:
    """Calls started since ``since``, those of them that ended, and their ``top`` most
    frequent exits (outcome and last menu node)."""
    calls = (await conn.execute(select(func.count()).where(CallRow.started_at >= since))).one()
    last_node = (
        select(StepRow.detail)
        .where(StepRow.call_id == CallRow.call_id, StepRow.kind == "node")
        .order_by(StepRow.seq.desc())
        .limit(1)
        .correlate(CallRow)
        .scalar_subquery()
    )
    ended = (
        select(CallRow.outcome.label("outcome"), last_node.label("node"))
        .where(CallRow.started_at >= since, CallRow.ended_at.is_not(None))
        .subquery()
    )
    counted = func.count().label("calls")
    exits = (
        select(ended.c.outcome, ended.c.node, counted)
        .group_by(ended.c.outcome, ended.c.node)
        .order_by(counted.desc(), ended.c.outcome, ended.c.node)
    )
    lines: list[ExitLine] = []
    finished = 0
    for outcome, node, count in await conn.execute(exits):
        finished += int(count)
        if len(lines) < top:
            # A node step reads "cm-main (menu)": the node id, then its type.
            where = str(node).split(" ", 1)[0] if node else None
            lines.append(ExitLine(str(outcome or "unknown"), where, int(count)))
    return JournalDay(int(calls[0]), finished, tuple(lines))


async def call_queues(conn: AsyncConnection, call_ids: list[str]) -> dict[str, str]:
    """The queue each of these calls was last in, from the queue log."""
    if not call_ids:
        return {}
    query = (
        select(QueueLogRow.call_id, QueueLogRow.queue)
        .where(QueueLogRow.call_id.in_(call_ids))
        .order_by(QueueLogRow.id)
    )
    return {call_id: queue for call_id, queue in await conn.execute(query)}
