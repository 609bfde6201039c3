"""The route table made real: each :class:`Endpoint` becomes an aiohttp route that checks
the token and role, validates input, runs the handler with its tools and audits state
changes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ivr_engine.access.audit import AuditLog
from ivr_engine.access.roles import Principal
from ivr_engine.http.api.endpoint import ApiRequest, Endpoint
from ivr_engine.http.api.errors import ApiError
from ivr_engine.http.api.guard import Guard
from ivr_engine.http.api.openapi import openapi_document

log = logging.getLogger(__name__)

D = TypeVar("D")

PREFIX = "/api/v1"
MAX_BODY = 1 << 20  # menus travel in bodies; nothing else comes near


def _problems(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "reason": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


async def _body(endpoint: Endpoint[Any], request: web.Request) -> BaseModel | None:
    if endpoint.body is None:
        return None
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(400, f"the body is larger than {MAX_BODY} bytes")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise ApiError(400, f"the body is larger than {MAX_BODY} bytes")
    if not raw and endpoint.optional_body:
        raw = b"{}"
    elif request.content_type != "application/json":
        raise ApiError(415, "send the body as application/json")
    try:
        data = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from exc
    try:
        return endpoint.body.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "the body is not valid", _problems(exc)) from exc


def _query(endpoint: Endpoint[Any], request: web.Request) -> BaseModel | None:
    if endpoint.query is None:
        return None
    values = {key: request.query.getone(key) for key in request.query}
    try:
        return endpoint.query.model_validate(values)
    except ValidationError as exc:
        raise ApiError(422, "the query is not valid", _problems(exc)) from exc


def _with_query(detail: dict[str, Any] | None, query: BaseModel) -> dict[str, Any]:
    """A state change's audited fields: its query's given ones, then its body's."""
    fields = query.model_dump(mode="json", exclude_none=True)
    for key, value in (detail or {}).items():
        if value is not None or key not in fields:
            fields[key] = value
    return fields


def _respond(endpoint: Endpoint[Any], result: BaseModel | web.StreamResponse) -> web.StreamResponse:
    if isinstance(result, web.StreamResponse):
        return result
    return web.json_response(result.model_dump(mode="json"), status=endpoint.status)


class ApiServer:
    def __init__(self, guard: Guard, audit: AuditLog, info: dict[str, str]) -> None:
        self.guard = guard
        self.audit = audit
        self.info = info
        self.endpoints: list[Endpoint[Any]] = []
        self._routes: list[web.RouteDef] = []

    def add(self, endpoints: Iterable[Endpoint[D]], tools: D) -> None:
        """Serve a module's table; each of its handlers gets ``tools`` with every call."""
        for endpoint in endpoints:
            self.endpoints.append(endpoint)
            serve = self._serve(endpoint, tools)
            self._routes.append(web.route(endpoint.method, PREFIX + endpoint.path, serve))

    def document(self) -> dict[str, Any]:
        return openapi_document(self.endpoints, PREFIX, self.info)

    def routes(self) -> list[web.RouteDef]:
        document = self.document()

        async def openapi(_request: web.Request) -> web.Response:
            return web.json_response(document)

        return [web.get(PREFIX + "/openapi.json", openapi), *self._routes]

    def _serve(self, endpoint: Endpoint[D], tools: D) -> Any:
        async def serve(request: web.Request) -> web.StreamResponse:
            principal: Principal | None = None
            detail: dict[str, Any] | None = None
            try:
                principal = await self.guard.authenticate(request)
                self.guard.authorize(endpoint, principal, dict(request.match_info))
                body = await _body(endpoint, request)
                detail = body.model_dump(mode="json") if body is not None else None
                query = _query(endpoint, request)
                if endpoint.changes_state and query is not None:
                    detail = _with_query(detail, query)
                call = ApiRequest(request, principal, body, query)
                result = await endpoint.handler(tools, call)
                response = _respond(endpoint, result)
            except ApiError as exc:
                response = exc.response()
            except (SQLAlchemyError, OSError) as exc:
                log.error("%s %s: %s: %s", request.method, request.path, type(exc).__name__, exc)
                response = ApiError(503, "the database or Asterisk is unavailable").response()
            if endpoint.changes_state:
                await self.audit.record(
                    principal,
                    f"{endpoint.method} {PREFIX}{endpoint.path}",
                    ",".join(f"{k}={v}" for k, v in request.match_info.items()),
                    response.status,
                    detail,
                    request.remote or "",
                )
            return response

        serve.__name__ = endpoint.operation_id
        return serve
