"""The API's error replies: JSON ``{"error": code, "detail": text}``, one shape for all."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel


class ErrorBody(BaseModel):
    error: str
    detail: str
    problems: list[dict[str, Any]] | None = None


CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    409: "conflict",
    415: "unsupported-media-type",
    422: "invalid",
    503: "unavailable",
}


class ApiError(Exception):
    """Raised by a handler (or the guard) to answer with an error."""

    def __init__(
        self, status: int, detail: str, problems: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.problems = problems

    def response(self) -> web.Response:
        body = ErrorBody(error=CODES.get(self.status, "error"), detail=self.detail)
        body.problems = self.problems
        headers = {"WWW-Authenticate": 'Bearer realm="ivr-engine"'} if self.status == 401 else None
        return web.json_response(
            body.model_dump(exclude_none=True), status=self.status, headers=headers
        )
