"""Reports through the API: ``GET /api/v1/reports/<name>?start=&end=&...&format=json|csv|png``.

Each report of :data:`ivr_engine.reports.registry.REPORTS` is one endpoint whose query is
the report's own parameters plus ``format``. JSON carries the rows and the definitions
the figures follow (``notes``: the service-level definition, ...); CSV is the same rows
for a spreadsheet; PNG is the report's chart, where it has one (404 otherwise).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, create_model
from sqlalchemy.ext.asyncio import AsyncEngine

from ivr_engine.http.api.endpoint import STAFF, ApiRequest, Endpoint
from ivr_engine.http.api.errors import ApiError
from ivr_engine.reports.params import ReportError
from ivr_engine.reports.registry import REPORTS, ReportSpec
from ivr_engine.settings import Settings

Format = Literal["json", "csv", "png"]


class ReportBody(BaseModel):
    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]
    notes: list[str] = Field(description="how the figures are defined (service level, ...)")


@dataclass(frozen=True)
class ReportTools:
    """What the report endpoints work with: the database the figures are read from, and
    the settings the reports follow (time zone, service-level definition, ...)."""

    engine: AsyncEngine
    settings: Settings


def _query_model(spec: ReportSpec) -> type[BaseModel]:
    title = "".join(part.title() for part in spec.name.split("-"))
    model: type[BaseModel] = create_model(
        f"{title}ReportQuery",
        __base__=spec.params,
        format=(Format, Field("json", description="json, csv, or png (a chart)")),
    )
    return model


async def answer_report(
    tools: ReportTools, spec: ReportSpec, query: BaseModel
) -> BaseModel | web.StreamResponse:
    """The report ``spec`` for ``query`` (its parameters and ``format``), in that format."""
    name = spec.name
    fmt: Format = getattr(query, "format")  # noqa: B009 (added by create_model)
    try:
        params = spec.params.model_validate(query.model_dump(exclude={"format"}))
        report = await spec.build(tools.engine, params, tools.settings)
    except ReportError as exc:
        raise ApiError(422, str(exc)) from exc
    if fmt == "csv":
        return web.Response(
            text=report.to_csv(),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "png":
        image = await asyncio.to_thread(report.to_png)  # drawing takes a while
        if image is None:
            raise ApiError(404, f"the {name} report has no chart")
        return web.Response(body=image, content_type="image/png")
    return ReportBody.model_validate(report.to_json())


class ReportHandler:
    """The handler of one report's endpoint. Every report is answered the same way
    (:func:`answer_report`), so this is one handler per report rather than one function:
    it knows its report and its query model, and is named ``report_<name>`` as a handler
    function would be (the operation's id)."""

    def __init__(self, spec: ReportSpec) -> None:
        self.spec = spec
        self.query = _query_model(spec)
        self.__name__ = f"report_{spec.name.replace('-', '_')}"

    async def __call__(
        self, tools: ReportTools, call: ApiRequest
    ) -> BaseModel | web.StreamResponse:
        return await answer_report(tools, self.spec, call.query_as(self.query))


def _endpoint(spec: ReportSpec) -> Endpoint[ReportTools]:
    handler = ReportHandler(spec)
    return Endpoint(
        "GET",
        f"/reports/{spec.name}",
        handler,
        spec.title,
        "reports",
        STAFF,
        query=handler.query,
        response=ReportBody,
        errors=(404,),
        media=("text/csv", "image/png"),
    )


REPORT_ENDPOINTS: tuple[Endpoint[ReportTools], ...] = tuple(
    _endpoint(spec) for spec in REPORTS.values()
)
