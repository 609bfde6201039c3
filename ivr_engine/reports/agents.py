"""Agents: calls, AHT, occupancy and pause time by reason, from ``agent_state_log``.

Every state change of an agent is a line of the state log; an agent stays in a state
from one change to the next. The report adds up, per agent, the time spent in each state
inside the period (a state that began before the period counts from the period's start;
one still going on counts until the period's end, or now), and the calls that ended in it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.store.tables import AgentRow, AgentStateLogRow
from ivr_engine.reports.params import AgentParams, Period, resolve_period
from ivr_engine.reports.report import Pacer, Report, pct, secs
from ivr_engine.settings import Settings

__all__ = ["BASE_COLUMNS", "build"]

A = AgentStateLogRow

BASE_COLUMNS = [
    "agent",
    "name",
    "calls",
    "talk_s",
    "wrap_up_s",
    "aht_s",
    "available_s",
    "ringing_s",
    "occupancy_pct",
    "logged_in_s",
    "paused_s",
]


@dataclass
class _Agent:
    id: str
    name: str = ""
    state: str = "logged-out"
    reason: str | None = None
    since: datetime | None = None
    calls: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    paused: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    active: bool = False  # logged in at some time in the period

    def close(self, until: datetime) -> None:
        """The current state lasted from ``since`` to ``until``."""
        if self.since is not None and self.state != "logged-out":
            spent = max(0.0, (until - self.since).total_seconds())
            self.seconds[self.state] += spent
            if self.state == "paused":
                self.paused[self.reason or "unknown"] += spent
            self.active = True
        self.since = until

    def enter(self, state: str, reason: str | None, at: datetime) -> None:
        self.close(at)
        self.state = state
        self.reason = reason if state == "paused" else None
        if state != "logged-out":
            self.active = True


def _changes_state(row: Any) -> bool:
    """A line that moves the agent: to another state, or (paused) to another reason.
    Lines that only note a request for after the call keep the state."""
    return bool(row.from_state != row.to_state or row.to_state == "paused")


async def _opening(
    conn: AsyncConnection, period: Period, agent: str | None
) -> tuple[dict[str, str], list[Any]]:
    """Every configured agent's name, and the last state-log line of each before the period."""
    last = (
        select(func.max(A.id))
        .where(A.agent_id == AgentRow.id, A.at < period.start)
        .scalar_subquery()
    )
    query = select(AgentRow.id, AgentRow.name, last.label("last_id"))
    if agent is not None:
        query = query.where(AgentRow.id == agent)
    names: dict[str, str] = {}
    last_ids: list[int] = []
    for agent_id, name, last_id in await conn.execute(query):
        names[agent_id] = name or ""
        if last_id is not None:
            last_ids.append(last_id)
    if not last_ids:
        return names, []
    rows = await conn.execute(select(A.agent_id, A.to_state, A.reason).where(A.id.in_(last_ids)))
    return names, list(rows)


async def build(engine: AsyncEngine, params: AgentParams, settings: Settings) -> Report:
    period = resolve_period(params, settings)
    stop = period.stop
    agents: dict[str, _Agent] = {}
    pacer = Pacer()
    async with engine.connect() as conn:
        names, opening = await _opening(conn, period, params.agent)
        for row in opening:
            agent = agents.setdefault(row.agent_id, _Agent(row.agent_id))
            agent.enter(row.to_state, row.reason, period.start)
        query = (
            select(A.agent_id, A.from_state, A.to_state, A.event, A.reason, A.at)
            .where(A.at >= period.start, A.at < stop)
            .order_by(A.id)
        )
        if params.agent is not None:
            query = query.where(A.agent_id == params.agent)
        for row in await conn.execute(query):
            await pacer.tick()
            agent = agents.setdefault(row.agent_id, _Agent(row.agent_id, since=period.start))
            if row.event == "call_end" and row.from_state == "on-call":
                agent.calls += 1
            if _changes_state(row):
                agent.enter(row.to_state, row.reason, row.at)
    for agent in agents.values():
        agent.close(stop)
        agent.name = names.get(agent.id, "")
    shown = sorted(
        (a for a in agents.values() if a.active or a.id == params.agent), key=lambda a: a.id
    )
    if params.agent is not None and not shown:
        shown = [_Agent(params.agent, name=names.get(params.agent, ""))]
    reasons = sorted({reason for a in shown for reason in a.paused})
    columns = BASE_COLUMNS + [f"pause_{reason}_s" for reason in reasons]
    rows = [_row(agent, reasons) for agent in shown]
    return Report(
        name="agents",
        title=f"Agents, {period.describe()}",
        columns=columns,
        rows=rows,
        notes=_notes(period),
        chart=_chart,
    )


def _row(agent: _Agent, reasons: list[str]) -> dict[str, Any]:
    s = agent.seconds
    talk, wrap, idle = s["on-call"], s["wrap-up"], s["available"]
    row: dict[str, Any] = {
        "agent": agent.id,
        "name": agent.name,
        "calls": agent.calls,
        "talk_s": secs(talk),
        "wrap_up_s": secs(wrap),
        "aht_s": secs((talk + wrap) / agent.calls) if agent.calls else None,
        "available_s": secs(idle),
        "ringing_s": secs(s["reserved"]),
        "occupancy_pct": pct(talk + wrap, talk + wrap + idle),
        "logged_in_s": secs(sum(s.values())),
        "paused_s": secs(s["paused"]),
    }
    for reason in reasons:
        row[f"pause_{reason}_s"] = secs(agent.paused.get(reason, 0.0))
    return row


def _notes(period: Period) -> list[str]:
    until = "now" if period.stop < period.end else "the period's end"
    return [
        f"Period: {period.describe()}. Times are seconds inside the period: a state that"
        f" began before it counts from its start, one still going on counts until {until}.",
        "Calls: calls the agent finished in the period. Talk: time on calls. Wrap-up:"
        " after-call work. AHT: (talk + wrap-up) / calls.",
        "Available: logged in and idle. Ringing: a call was ringing the agent's phone."
        " Occupancy: (talk + wrap-up) / (talk + wrap-up + available); ringing counts in"
        " neither.",
        "Logged in: all the time not logged out. Paused: time paused, then per reason"
        " (pause_<reason>_s).",
    ]


def _chart(report: Report) -> bytes:
    from ivr_engine.reports.charts import agent_chart

    return agent_chart(report)
