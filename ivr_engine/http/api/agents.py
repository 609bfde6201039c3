"""Agents on themselves: log in and out, pause with a reason, ready, finish wrap-up, and
see their own state. The same validated transitions as the phone's feature codes. The
handlers' tools is the ACD itself."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from acd.agents import AgentEvent, AgentState, PauseReasonError, TransitionError
from acd.service.acd import Acd
from acd.store.agent_rows import UnknownAgent
from ivr_engine.http.api.endpoint import AGENT, EVERYONE, ApiRequest, Endpoint, Handler
from ivr_engine.http.api.errors import ApiError
from ivr_engine.http.api.views import CODE, AgentView, agent_view


class PauseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(pattern=CODE, description="one of the configured pause reasons")


async def current(acd: Acd, agent_id: str) -> AgentView:
    for record in await acd.agents():
        if record.status.agent_id == agent_id:
            return agent_view(record, acd.config)
    raise ApiError(404, f"no agent {agent_id}")


async def apply(acd: Acd, agent_id: str, event: AgentEvent, reason: str | None = None) -> AgentView:
    """Apply ``event`` to the agent; refusals become 404, 409 or 422 with the reason."""
    if agent_id not in acd.config.agents:
        raise ApiError(404, f"no agent {agent_id}")
    try:
        await acd.agent_event(agent_id, event, reason=reason)
    except UnknownAgent as exc:
        raise ApiError(404, f"no agent {agent_id}") from exc
    except PauseReasonError as exc:
        raise ApiError(422, str(exc)) from exc
    except TransitionError as exc:
        raise ApiError(409, str(exc)) from exc
    return await current(acd, agent_id)


async def get_agent(acd: Acd, call: ApiRequest) -> AgentView:
    return await current(acd, call.path("agent_id"))


async def log_in(acd: Acd, call: ApiRequest) -> AgentView:
    return await apply(acd, call.path("agent_id"), AgentEvent.LOG_IN)


async def log_out(acd: Acd, call: ApiRequest) -> AgentView:
    return await apply(acd, call.path("agent_id"), AgentEvent.LOG_OUT)


async def pause(acd: Acd, call: ApiRequest) -> AgentView:
    reason = call.body_as(PauseBody).reason
    return await apply(acd, call.path("agent_id"), AgentEvent.PAUSE, reason)


async def ready(acd: Acd, call: ApiRequest) -> AgentView:
    return await apply(acd, call.path("agent_id"), AgentEvent.READY)


async def finish_wrap_up(acd: Acd, call: ApiRequest) -> AgentView:
    agent_id = call.path("agent_id")
    if (await current(acd, agent_id)).state != AgentState.WRAP_UP.value:
        raise ApiError(409, f"agent {agent_id} is not in wrap-up")
    return await apply(acd, agent_id, AgentEvent.READY)


AGENT_PATH = "/agents/{agent_id}"


def _mine(path: str, handler: Handler[Acd], summary: str, **more: Any) -> Endpoint[Acd]:
    """An agent's request on itself."""
    return Endpoint(
        "POST",
        AGENT_PATH + path,
        handler,
        summary,
        "agents",
        AGENT,
        own_agent=True,
        response=AgentView,
        errors=(404, 409),
        **more,
    )


AGENT_ENDPOINTS: tuple[Endpoint[Acd], ...] = (
    Endpoint(
        "GET",
        AGENT_PATH,
        get_agent,
        "An agent's state",
        "agents",
        EVERYONE,
        own_agent=True,
        response=AgentView,
        errors=(404,),
    ),
    _mine("/login", log_in, "Log in"),
    _mine(
        "/logout",
        log_out,
        "Log out",
        description="During a call, the log-out waits until the call and its wrap-up end.",
    ),
    _mine(
        "/pause",
        pause,
        "Pause with a reason",
        body=PauseBody,
        description="During a call, the pause starts when the call and its wrap-up end.",
    ),
    _mine("/ready", ready, "Ready for calls"),
    _mine("/wrap-up/finish", finish_wrap_up, "Finish wrap-up now"),
)
