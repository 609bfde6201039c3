"""The OpenAPI 3.1 document of the API, built from the route table and the pydantic
models the endpoints take and return (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ivr_engine.http.api.endpoint import Endpoint
from ivr_engine.http.api.errors import CODES, ErrorBody

_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"\{(\w+)\}")
_DESCRIPTIONS = {
    200: "Done",
    201: "Created",
    400: "Malformed request",
    401: "No token, or not a valid one",
    403: "The token's role may not do this",
    404: "No such thing",
    409: "Not possible in the current state",
    415: "The body is not JSON",
    422: "The input is not valid",
    503: "The database or Asterisk is unavailable",
}


def _models(endpoints: Sequence[Endpoint[Any]]) -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {"ErrorBody": ErrorBody}
    for endpoint in endpoints:
        for model in (endpoint.body, endpoint.response):
            if model is not None:
                found[model.__name__] = model
    return list(found.values())


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in field.items() if k != "title"},
            **({"description": field["description"]} if "description" in field else {}),
        }
        for name, field in schema.get("properties", {}).items()
    ]


def _operation(endpoint: Endpoint[Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_.:-]{1,64}$"},
        }
        for name in _PATH_PARAM.findall(endpoint.path)
    ]
    if endpoint.query is not None:
        parameters += _query_parameters(endpoint.query)
    ok: dict[str, Any] = {"description": _DESCRIPTIONS.get(endpoint.status, "Done")}
    content: dict[str, Any] = {}
    if endpoint.response is not None:
        content["application/json"] = {
            "schema": {"$ref": _REF.format(model=endpoint.response.__name__)}
        }
    for media in endpoint.media:
        binary = not media.startswith("text/")
        content[media] = {"schema": {"type": "string", **({"format": "binary"} if binary else {})}}
    if content:
        ok["content"] = content
    error = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}}
    statuses = {401, 403, 503, *endpoint.errors}
    if endpoint.body is not None:
        statuses |= {400, 415, 422}
    if endpoint.query is not None:
        statuses.add(422)
    roles = ", ".join(sorted(role.value for role in endpoint.roles))
    mine = " An agent acts on itself only." if endpoint.own_agent else ""
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "description": (endpoint.description + f"\n\nRoles: {roles}.{mine}").strip(),
        "tags": [endpoint.tag],
        "parameters": parameters,
        "responses": {
            str(endpoint.status): ok,
            **{
                str(code): {"description": _DESCRIPTIONS[code], "content": error}
                for code in sorted(statuses)
                if code in CODES
            },
        },
    }
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": not endpoint.optional_body,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=endpoint.body.__name__)}}
            },
        }
    return operation


def openapi_document(
    endpoints: Sequence[Endpoint[Any]], prefix: str, info: dict[str, str]
) -> dict[str, Any]:
    _, schemas = models_json_schema(
        [(model, "validation") for model in _models(endpoints)], ref_template=_REF
    )
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(prefix + endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": info,
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
