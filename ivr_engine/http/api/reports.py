"""Reports through the API: ``GET /api/v1/reports/<name>?start=&end=&...&format=json|csv|png``.

Each report of :data:`ivr_engine.reports.registry.REPORTS` is one endpoint whose query is
the report's own parameters plus ``format``. JSON carries the rows and the definitions
the figures follow (``notes``: the service-level definition, ...); CSV is the same rows
for a spreadsheet; PNG is the report's chart, where it has one (404 otherwise).
"""

from __future__ import annotations

import asyncio
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


def _query_model(name: str, spec: ReportSpec) -> type[BaseModel]:
    title = "".join(part.title() for part in name.split("-"))
    model: type[BaseModel] = create_model(
        f"{title}ReportQuery",
        __base__=spec.params,
        format=(Format, Field("json", description="json, csv, or png (a chart)")),
    )
    return model


def _endpoint(name: str, spec: ReportSpec, engine: AsyncEngine, settings: Settings) -> Endpoint:
    query_model = _query_model(name, spec)

    async def handler(call: ApiRequest) -> BaseModel | web.StreamResponse:
        query = call.query_as(query_model)
        fmt: Format = getattr(query, "format")  # noqa: B009 (added by create_model)
        try:
            params = spec.params.model_validate(query.model_dump(exclude={"format"}))
            report = await spec.build(engine, params, settings)
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

    handler.__name__ = f"report_{name.replace('-', '_')}"
    return Endpoint(
        "GET",
        f"/reports/{name}",
        handler,
        spec.title if hasattr(spec, "title") else f"The {name} report",
        "reports",
        STAFF,
        query=query_model,
        response=ReportBody,
        errors=(404,),
        media=("text/csv", "image/png"),
    )


def report_endpoints(engine: AsyncEngine, settings: Settings) -> list[Endpoint]:
    return [_endpoint(name, spec, engine, settings) for name, spec in REPORTS.items()]
