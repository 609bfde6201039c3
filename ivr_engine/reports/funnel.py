"""The IVR funnel: for each menu node, how many calls reached it, how deep it lies, and
how many callers asked for an agent there or hung up there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ivr_engine.reports.journal_data import JournalCall, calls_by_day, node_of
from ivr_engine.reports.params import PeriodParams, resolve_period
from ivr_engine.reports.report import Report, pct
from ivr_engine.settings import Settings

__all__ = ["COLUMNS", "agent_node", "build"]

COLUMNS = [
    "node",
    "type",
    "depth",
    "avg_depth",
    "reached",
    "asked_for_agent",
    "agent_pct",
    "hung_up",
    "hung_up_pct",
]


@dataclass
class _Node:
    node: str
    type: str
    reached: int = 0
    depth: int | None = None
    depth_sum: int = 0
    agent: int = 0
    hung_up: int = 0

    def row(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "type": self.type,
            "depth": self.depth,
            "avg_depth": round(self.depth_sum / self.reached, 1) if self.reached else None,
            "reached": self.reached,
            "asked_for_agent": self.agent,
            "agent_pct": pct(self.agent, self.reached),
            "hung_up": self.hung_up,
            "hung_up_pct": pct(self.hung_up, self.reached),
        }


def agent_node(path: list[tuple[str, str]]) -> str | None:
    """Where a call asked for an agent: the last menu node walked before its first queue
    node (the node before the queue node when it walked no menu; None: no queue node)."""
    first = next((i for i, (_, kind) in enumerate(path) if kind == "queue"), None)
    if first is None:
        return None
    for node, kind in reversed(path[:first]):
        if kind == "menu":
            return node
    return path[first - 1][0] if first > 0 else path[first][0]


async def build(engine: AsyncEngine, params: PeriodParams, settings: Settings) -> Report:
    period = resolve_period(params, settings)
    nodes: dict[str, _Node] = {}
    calls = 0
    async with engine.connect() as conn:
        async for call in calls_by_day(conn, period, ("node",)):
            if call.ended_at is None:
                continue
            calls += 1
            _walk(call, nodes)
    ordered = sorted(nodes.values(), key=lambda n: (n.depth or 0, -n.reached, n.node))
    return Report(
        name="funnel",
        title=f"IVR funnel, {period.describe()}",
        columns=list(COLUMNS),
        rows=[n.row() for n in ordered],
        notes=[
            f"Period: {period.describe()}; {calls} finished calls that started in it.",
            "Reached: calls that walked the node at least once. Depth: the fewest nodes"
            " a call walked before reaching it (0: the entry node); avg depth: the average"
            " over the calls that reached it. Deep, busy nodes are the ones to move up.",
            "Asked for agent: calls whose caller went from this node to an agent: it is"
            " the last menu the call walked before its first queue node.",
            "Hung up: calls whose caller hung up while this node was the last one walked.",
        ],
        chart=_chart,
    )


def _walk(call: JournalCall, nodes: dict[str, _Node]) -> None:
    path = [node_of(detail) for detail in call.kinds("node")]
    if not path:
        return
    first_seen: dict[str, int] = {}
    for depth, (node, kind) in enumerate(path):
        first_seen.setdefault(node, depth)
        nodes.setdefault(node, _Node(node, kind))
    for node, depth in first_seen.items():
        entry = nodes[node]
        entry.reached += 1
        entry.depth_sum += depth
        entry.depth = depth if entry.depth is None else min(entry.depth, depth)
    asked = agent_node(path)
    if asked is not None:
        nodes[asked].agent += 1
    if call.caller_hung_up:
        nodes[path[-1][0]].hung_up += 1


def _chart(report: Report) -> bytes:
    from ivr_engine.reports.charts import funnel_chart

    return funnel_chart(report)
