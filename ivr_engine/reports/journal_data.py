"""The call journal as the IVR reports read it: calls with the steps they need.

Every call the hotline answers is a row of ``calls``; the IVR writes what happened as
``call_steps``: ``node`` (a menu node was walked: ``"<id> (<type>)"``), ``queue`` (a queue
node asked the ACD for an agent), ``acd`` (what the ACD did: ``"enter <queue> ..."``,
``"overflow to <queue>"``, ``"talked <agent>"``), ``survey`` (the answer), ``outcome``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ivr_engine.journal.tables import CallRow, StepRow
from ivr_engine.reports.params import Period
from ivr_engine.reports.report import Pacer

__all__ = ["JournalCall", "calls_by_day", "classify", "node_of"]

C = CallRow
S = StepRow


@dataclass
class JournalCall:
    call_id: str
    caller: str
    dialled: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    hangup_side: str | None
    steps: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail) in order

    @property
    def finished(self) -> bool:
        return self.ended_at is not None

    def kinds(self, *kinds: str) -> list[str]:
        """The details of this call's steps of these kinds, in order."""
        return [detail for kind, detail in self.steps if kind in kinds]

    @property
    def asked_for_agent(self) -> bool:
        return any(kind == "queue" for kind, _ in self.steps)

    @property
    def caller_hung_up(self) -> bool:
        return self.hangup_side == "caller"


def node_of(detail: str) -> tuple[str, str]:
    """A ``node`` step's detail, ``"cm-main (menu)"``, as (node id, node type)."""
    node, _, kind = detail.partition(" (")
    return node, kind.rstrip(")")


FAILED = ("no-route", "engine-shutdown", "engine-crashed")  # the dialplan's fallback took them
CUT = ("asterisk-hangup", "connection-lost")  # Asterisk cut the call (a restart, say)


def classify(call: JournalCall) -> str:
    """How a call left the IVR: ``agent`` (it reached a queue node), ``transferred`` (to
    another number), ``failed`` (the engine could not finish it: no menu for the number, a
    fault, the engine stopping or crashing; the dialplan's fallback took over; or Asterisk
    cut it) or ``contained``
    (it ended in the IVR: served, or the caller hung up there)."""
    if call.asked_for_agent:
        return "agent"
    outcome = call.outcome or ""
    if outcome.startswith("transferred:"):
        return "transferred"
    if outcome in FAILED or outcome.startswith(("error", *CUT)):
        return "failed"
    return "contained"


async def calls_in(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    kinds: Sequence[str],
    *,
    having: str | None = None,
) -> list[JournalCall]:
    """Calls that started in [start, end), oldest first, with their steps of ``kinds``;
    ``having``: only calls with a step of that kind."""
    query = select(
        C.call_id, C.caller, C.dialled, C.started_at, C.ended_at, C.outcome, C.hangup_side
    ).where(C.started_at >= start, C.started_at < end)
    if having is not None:
        query = query.where(exists().where(S.call_id == C.call_id, S.kind == having))
    calls = {
        row.call_id: JournalCall(*row)
        for row in await conn.execute(query.order_by(C.started_at, C.call_id))
    }
    if kinds and calls:
        steps = (
            select(S.call_id, S.kind, S.detail)
            .join(C, C.call_id == S.call_id)
            .where(C.started_at >= start, C.started_at < end, S.kind.in_(list(kinds)))
            .order_by(S.call_id, S.seq)
        )
        for call_id, kind, detail in await conn.execute(steps):
            call = calls.get(call_id)
            if call is not None:
                call.steps.append((kind, detail))
    return list(calls.values())


async def calls_by_day(
    conn: AsyncConnection,
    period: Period,
    kinds: Sequence[str],
    *,
    having: str | None = None,
    pacer: Pacer | None = None,
) -> AsyncIterator[JournalCall]:
    """Every call of the period with its steps of ``kinds``, one hotline day at a time."""
    pacer = pacer or Pacer()
    for _, start, end in period.day_spans():
        for call in await calls_in(conn, start, end, kinds, having=having):
            await pacer.tick()
            yield call
