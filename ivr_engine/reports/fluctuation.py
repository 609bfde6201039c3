"""The busy-day fluctuation coefficient: the busiest day's agent-line attempts over the
daily average of the period (the hotline's target: below 1.5)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ivr_engine.reports.journal_data import calls_by_day
from ivr_engine.reports.params import PeriodParams, resolve_period
from ivr_engine.reports.report import Report
from ivr_engine.settings import Settings

__all__ = ["COLUMNS", "DEFAULT_DAYS", "TARGET", "build", "coefficient"]

TARGET = 1.5
DEFAULT_DAYS = 30  # without a start: the 30 days that end with the period's end

COLUMNS = ["day", "attempts", "callers", "attempts_per_caller", "vs_average"]


async def build(engine: AsyncEngine, params: PeriodParams, settings: Settings) -> Report:
    period = resolve_period(params, settings, default_days=DEFAULT_DAYS)
    attempts: Counter[date] = Counter()
    callers: defaultdict[date, set[str]] = defaultdict(set)
    async with engine.connect() as conn:
        async for call in calls_by_day(conn, period, (), having="queue"):
            day = period.local(call.started_at).date()
            attempts[day] += 1
            callers[day].add(call.caller or f"(no number {call.call_id})")
    days = period.days()
    average = sum(attempts.values()) / len(days)
    rows: list[dict[str, Any]] = []
    for day in days:
        count, people = attempts[day], len(callers[day])
        rows.append(
            {
                "day": day.isoformat(),
                "attempts": count,
                "callers": people,
                "attempts_per_caller": round(count / people, 2) if people else None,
                "vs_average": round(count / average, 2) if average else None,
            }
        )
    notes = [
        f"Period: {period.describe()}: {len(days)} days, every one counted in the average"
        " (days without calls too).",
        "Attempts: calls that asked for an agent (reached a queue node), each redial"
        " counted; attempts = callers x attempts per caller. vs average: the day's attempts"
        " / the daily average.",
    ]
    if average:
        busiest = max(days, key=lambda d: (attempts[d], -d.toordinal()))
        coefficient = attempts[busiest] / average
        verdict = "below" if coefficient < TARGET else "not below"
        notes.insert(
            0,
            f"Busy-day fluctuation coefficient: {coefficient:.2f} (busiest day"
            f" {busiest.isoformat()}: {attempts[busiest]} attempts; daily average"
            f" {average:.2f}); target below {TARGET:g}: {verdict}.",
        )
    else:
        notes.insert(0, "Busy-day fluctuation coefficient: none (no attempts in the period).")
    return Report(
        name="fluctuation",
        title=f"Busy-day fluctuation, {period.describe()}",
        columns=list(COLUMNS),
        rows=rows,
        notes=notes,
        chart=_chart,
    )


def coefficient(report: Report) -> float | None:
    """The coefficient of a fluctuation report's rows (None with no attempts)."""
    counts = [int(row["attempts"]) for row in report.rows]
    average = sum(counts) / len(counts) if counts else 0.0
    return None if not average else max(counts) / average


def _chart(report: Report) -> bytes:
    from ivr_engine.reports.charts import fluctuation_chart

    return fluctuation_chart(report, TARGET)
