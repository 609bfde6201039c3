"""IVR containment: calls that end in the IVR without asking for an agent, per interval
and per dialled line, with the average time those calls spent in the IVR."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ivr_engine.data.nuisance import NEWLY_BLOCKED
from ivr_engine.reports.journal_data import calls_by_day, classify
from ivr_engine.reports.params import Buckets, IntervalParams, resolve_period
from ivr_engine.reports.report import Report, calls, pct, secs
from ivr_engine.settings import Settings

__all__ = ["ALL_LINES", "BASELINE_PCT", "BASELINE_S", "COLUMNS", "build"]

ALL_LINES = "all"
BASELINE_PCT = 79.03  # the hotline's published self-service rate ...
BASELINE_S = 35.5  # ... and the average time in the IVR of those who finish there

COLUMNS = [
    "interval",
    "line",
    "calls",
    "contained",
    "containment_pct",
    "avg_contained_s",
    "hung_up_in_ivr",
    "asked_for_agent",
    "transferred",
    "failed",
]


@dataclass
class _Cell:
    calls: int = 0
    contained: int = 0
    contained_s: float = 0.0
    hung_up: int = 0
    agent: int = 0
    transferred: int = 0
    failed: int = 0

    def add(self, how: str, seconds: float, hung_up: bool) -> None:
        self.calls += 1
        if how == "contained":
            self.contained += 1
            self.contained_s += seconds
            self.hung_up += int(hung_up)
        elif how == "agent":
            self.agent += 1
        elif how == "transferred":
            self.transferred += 1
        else:
            self.failed += 1

    def row(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "contained": self.contained,
            "containment_pct": pct(self.contained, self.calls),
            "avg_contained_s": secs(self.contained_s / self.contained) if self.contained else None,
            "hung_up_in_ivr": self.hung_up,
            "asked_for_agent": self.agent,
            "transferred": self.transferred,
            "failed": self.failed,
        }


async def build(engine: AsyncEngine, params: IntervalParams, settings: Settings) -> Report:
    period = resolve_period(params, settings)
    buckets = Buckets(period, params.interval)
    cells: dict[tuple[datetime, str], _Cell] = {}
    lines: set[str] = set()
    unfinished = 0
    nuisance = 0  # calls refused as a nuisance caller's
    blocked: set[str] = set()  # the numbers those refusals put on the blacklist
    async with engine.connect() as conn:
        async for call in calls_by_day(conn, period, ("queue", "nuisance")):
            refusals = call.kinds("nuisance")
            if refusals:
                nuisance += 1
                if any(r.endswith(NEWLY_BLOCKED) for r in refusals):
                    blocked.add(call.caller)
            if call.ended_at is None:
                unfinished += 1
                continue
            how = classify(call)
            seconds = max(0.0, (call.ended_at - call.started_at).total_seconds())
            key = buckets.key(call.started_at)
            lines.add(call.dialled)
            for line in (ALL_LINES, call.dialled):
                cells.setdefault((key, line), _Cell()).add(how, seconds, call.caller_hung_up)
    rows = [
        {"interval": buckets.label(key), "line": line, **cells.get((key, line), _Cell()).row()}
        for key in buckets.all()
        for line in [ALL_LINES, *sorted(lines)]
    ]
    notes = [
        f"Period: {period.describe()}; {buckets.describe()}. A call counts in the interval"
        " in which it started.",
        "Line: the number dialled; 'all' adds up every line.",
        "Contained: the call ended in the IVR without asking for an agent (it never"
        " reached a queue node): self-service finished, or the caller hung up in the IVR"
        " (hung up in IVR, counted in contained too). Containment %: contained / calls.",
        "Avg contained s: the average time in the IVR of the contained calls, answer to hang-up.",
        "Asked for agent: the call reached a queue node. Transferred: the IVR passed the"
        " call to another number; a call to another hotline line is then counted again"
        " there. Failed: the engine could not finish the call (no menu for the number, a"
        " fault, the engine stopping or crashing) and the dialplan's fallback took it, or"
        " Asterisk cut the call (a restart).",
        f"Baseline to beat: {BASELINE_PCT} % contained, {BASELINE_S} s average in the IVR.",
    ]
    if nuisance:
        notes.append(
            f"Nuisance callers: {calls(nuisance)} refused for calling too often (counted"
            f" as contained); {len(blocked)} number(s) put on the blacklist in the period."
        )
    if unfinished:
        notes.append(f"Left out: {calls(unfinished)} still in progress (no end recorded).")
    return Report(
        name="ivr",
        title=f"IVR containment, {period.describe()}",
        columns=list(COLUMNS),
        rows=rows,
        notes=notes,
        chart=_chart,
    )


def _chart(report: Report) -> bytes:
    from ivr_engine.reports.charts import containment_chart

    return containment_chart(report, BASELINE_PCT)
