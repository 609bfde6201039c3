"""Report charts as PNG (matplotlib, Agg canvas: no GUI, no pyplot global state).

Imported only when a chart is drawn, so the engine starts without loading matplotlib.
"""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ivr_engine.reports.report import Report

__all__ = [
    "agent_chart",
    "containment_chart",
    "fluctuation_chart",
    "funnel_chart",
    "queue_chart",
    "survey_chart",
]

_SIZE = (10.0, 5.0)
_DPI = 100


def _figure(height: float = _SIZE[1]) -> Figure:
    figure = Figure(figsize=(_SIZE[0], height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _short(label: str) -> str:
    """'2025-06-15T10:15+08:00' -> '06-15 10:15'; days stay as they are."""
    if "T" in label:
        day, _, clock = label.partition("T")
        return f"{day[5:]} {clock[:5]}"
    return label


def _ticks(axes: Any, labels: list[str]) -> None:
    step = max(1, len(labels) // 24)
    positions = list(range(0, len(labels), step))
    axes.set_xticks(positions, [_short(labels[i]) for i in positions], rotation=60, ha="right")


def _empty(figure: Figure, title: str) -> bytes:
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.text(0.5, 0.5, "no data in the period", ha="center", va="center")
    axes.set_axis_off()
    return _png(figure)


def queue_chart(report: Report) -> bytes:
    """Offered calls (bars) and service level (line) per interval, all queues added up for
    the bars and the service level of each queue."""
    figure = _figure()
    if not report.rows:
        return _empty(figure, report.title)
    labels = sorted({row["interval"] for row in report.rows})
    index = {label: i for i, label in enumerate(labels)}
    offered = [0] * len(labels)
    levels: dict[str, list[float | None]] = defaultdict(lambda: [None] * len(labels))
    for row in report.rows:
        i = index[row["interval"]]
        offered[i] += int(row["offered"])
        levels[row["queue"]][i] = row["service_level_pct"]
    axes = figure.add_subplot()
    axes.bar(range(len(labels)), offered, color="#c9d6e8", label="offered")
    axes.set_ylabel("calls offered")
    _ticks(axes, labels)
    level_axes = axes.twinx()
    for queue, values in sorted(levels.items()):
        points = [(i, v) for i, v in enumerate(values) if v is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            level_axes.plot(xs, ys, marker="o", label=f"SL {queue}")
    level_axes.set_ylim(0, 105)
    level_axes.set_ylabel("service level %")
    level_axes.legend(loc="lower right", fontsize="small")
    axes.set_title(report.title, fontsize="medium")
    return _png(figure)


def containment_chart(report: Report, baseline_pct: float) -> bytes:
    """Containment % per interval (all lines), with the baseline to beat."""
    figure = _figure()
    rows = [row for row in report.rows if row["line"] == "all"]
    if not rows:
        return _empty(figure, report.title)
    labels = [row["interval"] for row in rows]
    values = [row["containment_pct"] or 0.0 for row in rows]
    axes = figure.add_subplot()
    axes.bar(range(len(rows)), values, color="#8fb8de", label="contained %")
    axes.axhline(baseline_pct, color="#c0392b", linestyle="--", label=f"baseline {baseline_pct} %")
    axes.set_ylim(0, 105)
    axes.set_ylabel("contained %")
    _ticks(axes, labels)
    axes.legend(loc="lower right", fontsize="small")
    axes.set_title(report.title, fontsize="medium")
    return _png(figure)


def funnel_chart(report: Report) -> bytes:
    """Per node, shallowest first: calls that reached it, asked for an agent, hung up."""
    rows = report.rows[:40]
    figure = _figure(height=max(3.0, 0.3 * len(rows) + 1.5))
    if not rows:
        return _empty(figure, report.title)
    names = [f"{row['node']} (depth {row['depth']})" for row in rows]
    positions = list(range(len(rows)))
    axes = figure.add_subplot()
    axes.barh(positions, [row["reached"] for row in rows], color="#c9d6e8", label="reached")
    agent = [row["asked_for_agent"] for row in rows]
    axes.barh(positions, agent, color="#e67e22", label="asked for agent")
    axes.barh(
        positions, [row["hung_up"] for row in rows], left=agent, color="#7f8c8d", label="hung up"
    )
    axes.set_yticks(positions, names, fontsize="small")
    axes.invert_yaxis()
    axes.set_xlabel("calls")
    axes.legend(loc="lower right", fontsize="small")
    axes.set_title(report.title, fontsize="medium")
    return _png(figure)


def fluctuation_chart(report: Report, target: float) -> bytes:
    """Agent-line attempts per day with the daily average and the target's limit."""
    figure = _figure()
    if not report.rows:
        return _empty(figure, report.title)
    labels = [row["day"] for row in report.rows]
    counts = [row["attempts"] for row in report.rows]
    average = sum(counts) / len(counts)
    axes = figure.add_subplot()
    axes.bar(range(len(counts)), counts, color="#8fb8de", label="attempts")
    axes.axhline(average, color="#2c3e50", label=f"daily average {average:.1f}")
    axes.axhline(average * target, color="#c0392b", linestyle="--", label=f"{target:g} x average")
    axes.set_ylabel("agent-line attempts")
    _ticks(axes, labels)
    axes.legend(loc="upper left", fontsize="small")
    axes.set_title(report.title, fontsize="medium")
    return _png(figure)


def survey_chart(report: Report) -> bytes:
    """Survey answers per day (all queues), stacked."""
    figure = _figure()
    answers = report.columns[4:]
    if not report.rows:
        return _empty(figure, report.title)
    days = sorted({row["day"] for row in report.rows})
    index = {day: i for i, day in enumerate(days)}
    totals = {answer: [0] * len(days) for answer in answers}
    for row in report.rows:
        for answer in answers:
            totals[answer][index[row["day"]]] += int(row.get(answer) or 0)
    axes = figure.add_subplot()
    bottom = [0] * len(days)
    for answer in answers:
        axes.bar(range(len(days)), totals[answer], bottom=bottom, label=answer)
        bottom = [b + v for b, v in zip(bottom, totals[answer], strict=True)]
    axes.set_ylabel("surveys")
    _ticks(axes, days)
    axes.legend(loc="upper left", fontsize="small")
    axes.set_title(report.title, fontsize="medium")
    return _png(figure)


def agent_chart(report: Report) -> bytes:
    """Occupancy per agent."""
    figure = _figure()
    if not report.rows:
        return _empty(figure, report.title)
    names = [str(row["agent"]) for row in report.rows]
    values = [row["occupancy_pct"] or 0.0 for row in report.rows]
    axes = figure.add_subplot()
    axes.bar(range(len(names)), values, color="#8fb8de")
    axes.set_xticks(range(len(names)), names, rotation=60, ha="right")
    axes.set_ylim(0, 105)
    axes.set_ylabel("occupancy %")
    axes.set_title(report.title, fontsize="medium")
    return _png(figure)
