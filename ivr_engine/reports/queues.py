"""Queues per interval: offered, answered, abandoned, service level, ASA, AHT, longest wait.

Read from the ACD's ``queue_log`` (what happened to each call in each queue) and
``agent_state_log`` (the agents' wrap-up after each call). A call's stay in one queue is a
*visit*: it starts when the call enters the queue, or overflows into it, and ends answered,
abandoned, overflowed (to another queue) or with a callback taken. Every figure of a visit
counts in the interval in which the visit started.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.service_level import ServiceLevelDefinition
from acd.store.tables import AgentStateLogRow, QueueLogRow, QueueRow
from ivr_engine.reports.params import Buckets, Period, QueueParams, resolve_period
from ivr_engine.reports.report import Pacer, Report, pct, secs
from ivr_engine.settings import Settings

__all__ = ["COLUMNS", "Visit", "build", "visits_of"]

Q = QueueLogRow
A = AgentStateLogRow

ARRIVALS = ("enter", "overflow")
AGENT_SPAN = timedelta(days=1)  # the longest an agent's talk and wrap-up of one call may run

COLUMNS = [
    "interval",
    "queue",
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "overflowed",
    "callbacks",
    "abandon_pct",
    "service_level_pct",
    "sl_target_pct",
    "asa_s",
    "aht_s",
    "longest_wait_s",
]


@dataclass
class Visit:
    """One call's stay in one queue."""

    call_id: str
    queue: str
    arrived: datetime
    outcome: str | None = None  # answered, abandoned, overflowed, callback; None: still there
    wait_s: float | None = None
    agent: str | None = None
    completed: bool = False
    talk_s: float | None = None


def visits_of(rows: Iterable[Any]) -> list[Visit]:
    """The visits in one call's queue-log lines (in the order they were written).

    The first outcome of a visit counts: a caller who hung up just as the agent answered
    was answered. A callback's later answer is not an answer to the visit (the caller had
    left the line and is counted under callbacks)."""
    visits: list[Visit] = []
    current: Visit | None = None
    for row in rows:
        if row.event == "enter":
            current = Visit(row.call_id, row.queue, row.at)
            visits.append(current)
            continue
        if current is None:
            continue
        if row.event == "overflow":
            if current.outcome is None:
                current.outcome = "overflowed"
            target = row.detail.removeprefix("to ").strip() or row.queue
            current = Visit(row.call_id, target, row.at)
            visits.append(current)
        elif row.event == "complete":
            if current.outcome == "answered" and not current.completed:
                current.completed = True
                current.talk_s = row.talk_s
        elif current.outcome is not None:
            continue
        elif row.event == "answer":
            current.outcome = "answered"
            current.agent = row.agent_id
            current.wait_s = _wait(row, current)
        elif row.event == "abandon":
            current.outcome = "abandoned"
            current.wait_s = _wait(row, current)
        elif row.event == "callback-offered":
            current.outcome = "callback"
    return visits


def _wait(row: Any, visit: Visit) -> float:
    if row.wait_s is not None:
        return float(row.wait_s)
    return _seconds(visit.arrived, row.at)


@dataclass
class _AfterCall:
    """An agent's time on one call, from the agent state log."""

    talk_s: float | None = None
    wrap_up_s: float = 0.0


def after_calls(rows: Iterable[Any]) -> dict[tuple[str, str], _AfterCall]:
    """Talk and wrap-up per (call, agent) from state-log lines naming the calls, in order.

    The state log names the call on every change while an agent has it: the answer
    (reserved -> on-call), the call's end (on-call -> wrap-up) and the end of wrap-up."""
    found: dict[tuple[str, str], _AfterCall] = {}
    talking: dict[tuple[str, str], datetime] = {}
    wrapping: dict[tuple[str, str], datetime] = {}
    for row in rows:
        key = (row.call_id, row.agent_id)
        if row.from_state == row.to_state:
            continue
        if row.from_state == "on-call" and key in talking:
            entry = found.setdefault(key, _AfterCall())
            entry.talk_s = _seconds(talking.pop(key), row.at)
        if row.from_state == "wrap-up" and key in wrapping:
            entry = found.setdefault(key, _AfterCall())
            entry.wrap_up_s += _seconds(wrapping.pop(key), row.at)
        if row.to_state == "on-call":
            talking[key] = row.at
        elif row.to_state == "wrap-up":
            wrapping[key] = row.at
    return found


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())


@dataclass
class _Cell:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short: int = 0
    overflowed: int = 0
    callbacks: int = 0
    answered_waits: list[float] = field(default_factory=list)
    abandoned_waits: list[float] = field(default_factory=list)
    handled: int = 0
    handling_s: float = 0.0

    def add(self, visit: Visit, sl: ServiceLevelDefinition, handling: float | None) -> None:
        self.offered += 1
        if visit.outcome == "answered":
            self.answered += 1
            self.answered_waits.append(visit.wait_s or 0.0)
            if handling is not None:
                self.handled += 1
                self.handling_s += handling
        elif visit.outcome == "abandoned":
            wait = visit.wait_s or 0.0
            self.abandoned_waits.append(wait)
            if sl.is_short_abandon(wait):
                self.short += 1
            else:
                self.abandoned += 1
        elif visit.outcome == "overflowed":
            self.overflowed += 1
        elif visit.outcome == "callback":
            self.callbacks += 1

    def row(self, sl: ServiceLevelDefinition) -> dict[str, Any]:
        waits = self.answered_waits + self.abandoned_waits
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandoned": self.short,
            "overflowed": self.overflowed,
            "callbacks": self.callbacks,
            "abandon_pct": pct(self.abandoned, self.offered - self.short),
            "service_level_pct": _rounded(sl.compute(self.answered_waits, self.abandoned_waits)),
            "asa_s": secs(sum(self.answered_waits) / self.answered) if self.answered else None,
            "aht_s": secs(self.handling_s / self.handled) if self.handled else None,
            "longest_wait_s": secs(max(waits)) if waits else None,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def _queue_settings(conn: AsyncConnection) -> dict[str, tuple[float, int]]:
    rows = await conn.execute(
        select(QueueRow.name, QueueRow.sl_threshold_s, QueueRow.sl_target_pct)
    )
    return {name: (float(threshold), int(target)) for name, threshold, target in rows}


async def _day(
    conn: AsyncConnection, start: datetime, end: datetime
) -> tuple[list[Visit], dict[tuple[str, str], _AfterCall]]:
    """The visits that started in [start, end), with their agents' talk and wrap-up."""
    arrived = select(Q.call_id).where(Q.event.in_(ARRIVALS), Q.at >= start, Q.at < end)
    lines = await conn.execute(
        select(Q.call_id, Q.queue, Q.event, Q.agent_id, Q.at, Q.wait_s, Q.talk_s, Q.detail)
        .where(Q.call_id.in_(arrived))
        .order_by(Q.id)
    )
    by_call: dict[str, list[Any]] = {}
    for line in lines:
        by_call.setdefault(line.call_id, []).append(line)
    visits = [
        visit
        for rows in by_call.values()
        for visit in visits_of(rows)
        if start <= visit.arrived < end
    ]
    # An agent's part of a call starts after the call arrived and ends within a day.
    states = await conn.execute(
        select(A.call_id, A.agent_id, A.from_state, A.to_state, A.at)
        .where(A.at >= start, A.at < end + AGENT_SPAN, A.call_id.in_(arrived))
        .order_by(A.id)
    )
    return visits, after_calls(states)


async def build(engine: AsyncEngine, params: QueueParams, settings: Settings) -> Report:
    period = resolve_period(params, settings)
    buckets = Buckets(period, params.interval)
    definition = settings.reports.service_level
    cells: dict[tuple[datetime, str], _Cell] = {}
    seen: set[str] = set()
    pacer = Pacer()
    async with engine.connect() as conn:
        queue_settings = await _queue_settings(conn)
        for _, start, end in period.day_spans():
            visits, agents = await _day(conn, start, end)
            for visit in visits:
                await pacer.tick()
                if params.queue is not None and visit.queue != params.queue:
                    continue
                seen.add(visit.queue)
                sl = _definition(definition, queue_settings, visit.queue)
                cell = cells.setdefault((buckets.key(visit.arrived), visit.queue), _Cell())
                cell.add(visit, sl, _handling(visit, agents))
    queues = [params.queue] if params.queue is not None else sorted(seen)
    rows = []
    for key in buckets.all():
        for queue in queues:
            sl = _definition(definition, queue_settings, queue)
            figures = cells.get((key, queue), _Cell()).row(sl)
            target = queue_settings.get(queue)
            rows.append(
                {
                    "interval": buckets.label(key),
                    "queue": queue,
                    **figures,
                    "sl_target_pct": None if target is None else target[1],
                }
            )
    return Report(
        name="queues",
        title=f"Queues per interval, {period.describe()}",
        columns=list(COLUMNS),
        rows=rows,
        notes=_notes(period, buckets, definition, queue_settings, queues),
        chart=_chart,
    )


def _definition(
    definition: ServiceLevelDefinition,
    queue_settings: dict[str, tuple[float, int]],
    queue: str,
) -> ServiceLevelDefinition:
    own = queue_settings.get(queue)
    return definition.for_queue(None if own is None else own[0])


def _handling(visit: Visit, agents: dict[tuple[str, str], _AfterCall]) -> float | None:
    """Talk plus wrap-up of an answered visit whose talk is over (None: not handled yet)."""
    if visit.outcome != "answered" or not visit.completed:
        return None
    after = agents.get((visit.call_id, visit.agent or ""), _AfterCall())
    talk = visit.talk_s if visit.talk_s is not None else after.talk_s
    return (talk or 0.0) + after.wrap_up_s


def _notes(
    period: Period,
    buckets: Buckets,
    definition: ServiceLevelDefinition,
    queue_settings: dict[str, tuple[float, int]],
    queues: Sequence[str],
) -> list[str]:
    notes = [f"Period: {period.describe()}; {buckets.describe()}."]
    if definition.queue_thresholds:
        for queue in queues:
            sl = _definition(definition, queue_settings, queue)
            notes.append(f"Service level of {queue}: {sl.describe()}.")
    else:
        notes.append(f"Service level: {definition.describe()}.")
    notes += [
        "A call counts in the interval in which it entered the queue, or overflowed into it.",
        "Offered: calls that entered the queue or overflowed into it, short abandons"
        " included. Answered: an agent picked up. Abandoned: the caller hung up while"
        " waiting or ringing; short abandons are counted on their own and left out of"
        " abandoned, abandon % and service level.",
        "Overflowed: moved on to another queue (counted there as offered too)."
        " Callbacks: the caller took a callback; the later call back is not counted as"
        " answered.",
        "Waits count from when the caller first entered a queue, also after an overflow.",
        "Abandon %: abandoned / (offered - short abandons)."
        " SL target: the queue's own target from the ACD configuration.",
        "ASA: total wait of answered calls / answered calls. AHT: (talk + wrap-up) / calls"
        " answered whose talk is over; there is no hold. Longest wait: the longest wait of"
        " an answered or abandoned call.",
    ]
    return notes


def _chart(report: Report) -> bytes:
    from ivr_engine.reports.charts import queue_chart

    return queue_chart(report)
