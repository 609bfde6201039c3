"""Survey results: the answers to the satisfaction question, per day and per queue.

The queue is the one in which the call was talked to by an agent (the last queue the ACD
had the call in before the survey); surveys after self-service have no queue.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ivr_engine.reports.journal_data import JournalCall, calls_by_day
from ivr_engine.reports.params import SurveyParams, resolve_period
from ivr_engine.reports.report import Report, pct
from ivr_engine.settings import Settings

__all__ = ["BASE_COLUMNS", "NO_ANSWER", "build", "surveys_of"]

NO_ANSWER = "no-answer"
BASE_COLUMNS = ["day", "queue", "surveys", "answered_pct"]


def surveys_of(call: JournalCall) -> list[tuple[str | None, str]]:
    """The call's survey answers, each with the queue the call was in before it."""
    queue: str | None = None
    found: list[tuple[str | None, str]] = []
    for kind, detail in call.steps:
        if kind == "acd":
            if detail.startswith("enter "):
                queue = detail.split()[1]
            elif detail.startswith("overflow to "):
                queue = detail.removeprefix("overflow to ").split()[0]
        elif kind == "survey":
            found.append((queue, detail.strip() or NO_ANSWER))
    return found


async def build(engine: AsyncEngine, params: SurveyParams, settings: Settings) -> Report:
    period = resolve_period(params, settings)
    counts: Counter[tuple[str, str | None, str]] = Counter()
    async with engine.connect() as conn:
        async for call in calls_by_day(conn, period, ("acd", "survey"), having="survey"):
            day = period.local(call.started_at).date().isoformat()
            for queue, answer in surveys_of(call):
                if params.queue is None or queue == params.queue:
                    counts[(day, queue, answer)] += 1
    answers = sorted({a for _, _, a in counts if a != NO_ANSWER})
    answers.append(NO_ANSWER)
    groups = sorted({(d, q) for d, q, _ in counts}, key=lambda g: (g[0], g[1] is None, g[1] or ""))
    rows: list[dict[str, Any]] = []
    for day, queue in groups:
        row: dict[str, Any] = {"day": day, "queue": queue}
        per = {answer: counts[(day, queue, answer)] for answer in answers}
        total = sum(per.values())
        row |= {"surveys": total, "answered_pct": pct(total - per[NO_ANSWER], total)}
        row |= per
        rows.append(row)
    return Report(
        name="survey",
        title=f"Survey results, {period.describe()}",
        columns=BASE_COLUMNS + answers,
        rows=rows,
        notes=[
            f"Period: {period.describe()}. A survey counts on the day its call started.",
            "Queue: the queue in which an agent took the call before the survey; empty"
            " for surveys after self-service.",
            "Surveys: times the question was asked; then one column per answer, and"
            f" {NO_ANSWER} for callers who pressed no valid key. Answered %: surveys"
            " answered / surveys.",
        ],
        chart=_chart,
    )


def _chart(report: Report) -> bytes:
    from ivr_engine.reports.charts import survey_chart

    return survey_chart(report)
