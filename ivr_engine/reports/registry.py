"""Every report by name: its parameters and how it is built.

    spec = REPORTS[name]
    params = spec.params.model_validate(query)   # pydantic ValidationError: bad parameters
    report = await spec.build(engine, params, settings)   # ReportError: an empty period

Each report's parameters accept only what applies to it (``start``, ``end``, and
``queue``, ``agent``, ``interval`` or ``top`` where they make sense); see
:mod:`ivr_engine.reports.params`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from ivr_engine.reports import agents, fluctuation, funnel, ivr, queues, repeat_callers, survey
from ivr_engine.reports.params import (
    AgentParams,
    IntervalParams,
    PeriodParams,
    QueueParams,
    SurveyParams,
    TopParams,
)
from ivr_engine.reports.report import Report
from ivr_engine.settings import Settings

__all__ = ["REPORTS", "ReportSpec"]


@dataclass(frozen=True)
class ReportSpec:
    """A report: its name, a title for menus, its parameters' model, and its builder
    (``build(engine, params, settings)``, where params is an instance of ``params``)."""

    name: str
    title: str
    params: type[PeriodParams]
    build: Callable[[AsyncEngine, Any, Settings], Awaitable[Report]]


REPORTS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        ReportSpec("queues", "Queues per interval", QueueParams, queues.build),
        ReportSpec("agents", "Agents", AgentParams, agents.build),
        ReportSpec("ivr", "IVR containment", IntervalParams, ivr.build),
        ReportSpec("funnel", "IVR funnel per node", PeriodParams, funnel.build),
        ReportSpec("repeat-callers", "Repeat callers", TopParams, repeat_callers.build),
        ReportSpec("fluctuation", "Busy-day fluctuation", PeriodParams, fluctuation.build),
        ReportSpec("survey", "Survey results", SurveyParams, survey.build),
    )
}
