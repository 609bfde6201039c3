"""One API operation: method, path, who may call it, what it takes and what it returns.

Feature modules declare their operations as tables of :class:`Endpoint` values;
:mod:`.server` turns them into aiohttp routes and :mod:`.openapi` into the OpenAPI
document.

A handler is a module-level function ``handler(tools, call)``. ``tools`` is the one object
its module's endpoints work with (the ACD, the menu registry, the blacklist store, ...),
given once with the table to :meth:`.server.ApiServer.add`; ``call`` is the request. So a
handler reads the call and decides, and reaches nothing it was not handed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel

from ivr_engine.access.roles import Principal, Role

M = TypeVar("M", bound=BaseModel)
D = TypeVar("D")

Result = BaseModel | web.StreamResponse
Handler = Callable[[D, "ApiRequest"], Awaitable[Result]]

EVERYONE = frozenset(Role)
STAFF = frozenset({Role.SUPERVISOR, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})
AGENT = frozenset({Role.AGENT})


@dataclass(frozen=True)
class Endpoint(Generic[D]):
    """An operation whose handler works with a ``D``, its module's tools."""

    method: str
    path: str  # below the API's prefix, in aiohttp and OpenAPI syntax: /agents/{agent_id}
    handler: Handler[D]
    summary: str
    tag: str
    roles: frozenset[Role]
    own_agent: bool = False  # an agent may call it only with its own {agent_id}
    body: type[BaseModel] | None = None
    optional_body: bool = False  # a request without any body is validated as {}
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    media: tuple[str, ...] = ()  # other response media types than JSON (text/csv, image/png)
    description: str = ""

    @property
    def changes_state(self) -> bool:
        return self.method != "GET"

    @property
    def operation_id(self) -> str:
        return getattr(self.handler, "__name__", "operation").strip("_")


@dataclass(frozen=True)
class ApiRequest:
    """What a handler gets: the request, who makes it, and its validated input."""

    request: web.Request
    principal: Principal
    body: BaseModel | None
    query: BaseModel | None

    def path(self, name: str) -> str:
        return self.request.match_info[name]

    def body_as(self, model: type[M]) -> M:
        if not isinstance(self.body, model):
            raise TypeError(f"the endpoint takes no {model.__name__} body")
        return self.body

    def query_as(self, model: type[M]) -> M:
        if not isinstance(self.query, model):
            raise TypeError(f"the endpoint takes no {model.__name__} query")
        return self.query
