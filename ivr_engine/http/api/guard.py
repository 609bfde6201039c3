"""Who is calling, and may they: the bearer token, the endpoint's roles, and an agent
acting only on itself. Every refusal is an :class:`ApiError` (401 or 403) with a reason
that names no secret and does not tell an unknown token from a revoked one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from ivr_engine.access.roles import Principal, Role
from ivr_engine.access.tokens import TokenStore
from ivr_engine.http.api.endpoint import Endpoint
from ivr_engine.http.api.errors import ApiError

_MAX_TOKEN = 256


class Guard:
    def __init__(self, tokens: TokenStore) -> None:
        self.tokens = tokens

    async def authenticate(self, request: web.Request, *, allow_query: bool = False) -> Principal:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header and allow_query:  # browsers cannot set headers on a WebSocket
            scheme, token = "Bearer", request.query.get("token", "")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "a bearer token is needed: Authorization: Bearer <token>")
        if len(token) > _MAX_TOKEN:
            raise ApiError(401, "the token is not valid")
        try:
            principal = await self.tokens.verify(token.strip())
        except (SQLAlchemyError, OSError) as exc:
            raise ApiError(
                503, "tokens cannot be checked now: the database is unavailable"
            ) from exc
        if principal is None:
            raise ApiError(401, "the token is not valid")
        return principal

    @staticmethod
    def authorize(endpoint: Endpoint[Any], principal: Principal, path: dict[str, str]) -> None:
        if principal.role not in endpoint.roles:
            allowed = ", ".join(sorted(role.value for role in endpoint.roles))
            raise ApiError(403, f"role {principal.role.value} may not do this (needs {allowed})")
        own = path.get("agent_id") == principal.agent_id
        if principal.role is Role.AGENT and endpoint.own_agent and not own:
            raise ApiError(403, "an agent acts on itself only")

    def authorizer(self, roles: frozenset[Role]) -> Callable[[web.Request], Awaitable[Principal]]:
        """For routes outside the table (the wallboard): token in the header or ``?token=``;
        a refusal is raised as aiohttp's HTTP error with the API's JSON error body."""

        async def check(request: web.Request) -> Principal:
            try:
                principal = await self.authenticate(request, allow_query=True)
                if principal.role not in roles:
                    raise ApiError(403, f"role {principal.role.value} may not do this")
            except ApiError as exc:
                raise exc.http_error() from exc
            return principal

        return check
