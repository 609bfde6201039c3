"""Repeat callers: the same calling number again within ``reports.repeat_window_h`` hours.

A call is a *repeat* when the same number started another call within the window before
it, also if that earlier call was before the period. A call that only continues a
transfer (the caller's previous call was passed to this line and this call started within
a minute of its end) is the same contact, not a repeat. Calls without a number are left
out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ivr_engine.reports.journal_data import JournalCall, calls_by_day
from ivr_engine.reports.params import Period, TopParams, resolve_period
from ivr_engine.reports.report import Report, calls, pct
from ivr_engine.settings import Settings

__all__ = ["COLUMNS", "TRANSFER_GAP", "build", "is_continuation"]

TRANSFER_GAP = timedelta(seconds=60)

COLUMNS = [
    "caller",
    "calls",
    "repeats",
    "first_call",
    "last_call",
    "shortest_gap_min",
    "lines",
    "asked_for_agent",
]


@dataclass
class _Caller:
    number: str
    calls: int = 0
    repeats: int = 0
    first: datetime | None = None
    last: datetime | None = None
    shortest: timedelta | None = None
    lines: set[str] = field(default_factory=set)
    agent: int = 0


def is_continuation(previous: JournalCall, call: JournalCall) -> bool:
    """Did ``call`` only continue ``previous`` after the IVR transferred it to this line?"""
    return (
        previous.outcome == f"transferred:{call.dialled}"
        and previous.ended_at is not None
        and call.started_at - previous.ended_at <= TRANSFER_GAP
    )


async def build(engine: AsyncEngine, params: TopParams, settings: Settings) -> Report:
    period = resolve_period(params, settings)
    window = timedelta(hours=settings.reports.repeat_window_h)
    lookback = Period(period.start - window, period.end, period.zone, period.now)
    last: dict[str, JournalCall] = {}
    callers: dict[str, _Caller] = {}
    total = anonymous = repeats = 0
    async with engine.connect() as conn:
        async for call in calls_by_day(conn, lookback, ("queue",)):
            in_period = call.started_at >= period.start
            if in_period:
                total += 1
            if not call.caller:
                anonymous += int(in_period)
                continue
            previous = last.get(call.caller)
            last[call.caller] = call
            if not in_period:
                continue
            entry = callers.setdefault(call.caller, _Caller(call.caller))
            entry.calls += 1
            entry.first = entry.first or call.started_at
            entry.last = call.started_at
            entry.lines.add(call.dialled)
            entry.agent += int(call.asked_for_agent)
            if previous is None or is_continuation(previous, call):
                continue
            gap = call.started_at - previous.started_at
            if gap <= window:
                entry.repeats += 1
                repeats += 1
                entry.shortest = gap if entry.shortest is None else min(entry.shortest, gap)
    repeating = sorted(
        (c for c in callers.values() if c.repeats),
        key=lambda c: (-c.repeats, -c.calls, c.number),
    )
    rows = [_row(c, period) for c in repeating[: params.top]]
    notes = [
        f"Period: {period.describe()}. Repeat window: {settings.reports.repeat_window_h:g} h.",
        f"{calls(total)}, {repeats} of them repeats ({_pct(repeats, total - anonymous)} of"
        f" the {calls(total - anonymous)} with a number); {len(repeating)} of"
        f" {len(callers)} callers called again within the window.",
        "Repeats: calls that came within the window after another call from the same"
        " number (that earlier call may be before the period). A call that only continues"
        " a transfer from another hotline line is not a repeat.",
        "Calls: the caller's calls in the period. Shortest gap: the least time between two"
        " of the caller's calls that made a repeat. Lines: the numbers dialled. Asked for"
        " agent: calls that reached a queue node.",
    ]
    if anonymous:
        notes.append(f"Left out: {calls(anonymous)} without a calling number.")
    if len(repeating) > params.top:
        notes.append(f"The {params.top} callers with the most repeats are shown.")
    return Report(
        name="repeat-callers",
        title=f"Repeat callers, {period.describe()}",
        columns=list(COLUMNS),
        rows=rows,
        notes=notes,
    )


def _pct(part: int, whole: int) -> str:
    value = pct(part, whole)
    return "-" if value is None else f"{value:.1f} %"


def _row(caller: _Caller, period: Period) -> dict[str, Any]:
    def shown(at: datetime | None) -> str | None:
        return None if at is None else period.local(at).isoformat(timespec="seconds")

    gap = caller.shortest
    return {
        "caller": caller.number,
        "calls": caller.calls,
        "repeats": caller.repeats,
        "first_call": shown(caller.first),
        "last_call": shown(caller.last),
        "shortest_gap_min": None if gap is None else round(gap.total_seconds() / 60, 1),
        "lines": " ".join(sorted(caller.lines)),
        "asked_for_agent": caller.agent,
    }
