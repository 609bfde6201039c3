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

    def http_error(self) -> web.HTTPException:
        """The same answer as aiohttp's exception, for handlers outside the route table."""
        kinds: dict[int, type[web.HTTPException]] = {
            401: web.HTTPUnauthorized,
            403: web.HTTPForbidden,
        }
        kind = kinds.get(self.status, web.HTTPServiceUnavailable)
        return kind(
            text=self.response().text,
            content_type="application/json",
            headers=_auth_header(self.status),
        )

    def response(self) -> web.Response:
        body = ErrorBody(error=CODES.get(self.status, "error"), detail=self.detail)
        body.problems = self.problems
        return web.json_response(
            body.model_dump(exclude_none=True),
            status=self.status,
            headers=_auth_header(self.status),
        )


def _auth_header(status: int) -> dict[str, str] | None:
    return {"WWW-Authenticate": 'Bearer realm="ivr-engine"'} if status == 401 else None
