"""Supervisors: the live state of queues, agents and calls; forcing an agent out or into
pause; listening, whispering or barging on an agent's call; transferring or hanging up
a call."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.agents import SUPERVISOR, AgentEvent, AgentState
from acd.figures import Today, day_start, read_today
from acd.service.acd import Acd
from acd.service_level import ServiceLevelDefinition
from acd.store.call_rows import CallRecord
from ivr_engine.acd_asterisk.supervision import ActionRefused, SpyMode, Supervision
from ivr_engine.ami import AmiUnavailable
from ivr_engine.http.api.agents import AGENT_PATH, apply
from ivr_engine.http.api.endpoint import STAFF, ApiRequest, Endpoint, Handler
from ivr_engine.http.api.errors import ApiError
from ivr_engine.http.api.views import (
    CODE,
    AgentList,
    AgentView,
    CallList,
    QueueList,
    agent_view,
    call_view,
    queue_views,
)

PHONE = r"^[0-9A-Za-z_-]{1,32}$"
NUMBER = r"^[0-9*#+]{1,32}$"


class ForcePauseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(SUPERVISOR, pattern=CODE, description="default: supervisor")


class SpyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(pattern=PHONE, description="the supervisor's phone (PJSIP endpoint)")


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(pattern=NUMBER, description="an agent seat (80NN) or a hotline number")


class PriorityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priority: int = Field(ge=0, le=100, description="higher is answered first")


class Done(BaseModel):
    done: str


@dataclass(frozen=True)
class SupervisorTools:
    """What the supervisors' endpoints work with: the ACD, Asterisk for the actions on
    calls (listen, whisper, barge, transfer, hang up), and for the queues' day so far the
    database whose queue log is read (the API's own, so the read never holds the ACD's
    write lock on SQLite) with the settings the wallboard's figures follow: the engine's
    ``reports.service_level`` and the hotline's time zone."""

    acd: Acd
    supervision: Supervision
    database: AsyncEngine
    service_level: ServiceLevelDefinition
    timezone: ZoneInfo

    async def today(self, now: float) -> Today:
        """Each queue's answers and abandons since the hotline's midnight before ``now``."""
        since = day_start(now, self.timezone)
        async with self.database.connect() as conn:
            return await read_today(conn, since, self.service_level, self.acd.config)


async def list_agents(tools: SupervisorTools, _call: ApiRequest) -> AgentList:
    acd = tools.acd
    return AgentList(agents=[agent_view(r, acd.config) for r in await acd.agents()])


async def list_queues(tools: SupervisorTools, _call: ApiRequest) -> QueueList:
    acd = tools.acd
    agents, calls = await acd.agents(), await acd.waiting()
    now = acd.clock()
    today = await tools.today(now)
    return QueueList(queues=queue_views(acd.config, agents, calls, today, now))


async def list_calls(tools: SupervisorTools, _call: ApiRequest) -> CallList:
    acd = tools.acd
    now = acd.clock()
    return CallList(calls=[call_view(c, now) for c in await acd.waiting()])


async def force_logout(tools: SupervisorTools, call: ApiRequest) -> AgentView:
    return await apply(tools.acd, call.path("agent_id"), AgentEvent.SUPERVISOR_FORCE_LOGOUT)


async def force_pause(tools: SupervisorTools, call: ApiRequest) -> AgentView:
    reason = call.body_as(ForcePauseBody).reason
    event = AgentEvent.SUPERVISOR_FORCE_PAUSE
    return await apply(tools.acd, call.path("agent_id"), event, reason)


async def listen_agent(tools: SupervisorTools, call: ApiRequest) -> Done:
    return await _spy(tools, call, SpyMode.LISTEN)


async def whisper_agent(tools: SupervisorTools, call: ApiRequest) -> Done:
    return await _spy(tools, call, SpyMode.WHISPER)


async def barge_agent(tools: SupervisorTools, call: ApiRequest) -> Done:
    return await _spy(tools, call, SpyMode.BARGE)


async def transfer_call(tools: SupervisorTools, call: ApiRequest) -> Done:
    record = await _live_call(tools.acd, call.path("call_id"))
    to = call.body_as(TransferBody).to
    _journal(tools.acd, record.id, f"supervisor {call.principal.name} transferred the call to {to}")
    await _ami(tools.supervision.transfer(record.channel, to))
    return Done(done=f"call {record.id} transferred to {to}")


async def hang_up_call(tools: SupervisorTools, call: ApiRequest) -> Done:
    record = await _live_call(tools.acd, call.path("call_id"))
    _journal(tools.acd, record.id, f"supervisor {call.principal.name} hung up the call")
    await _ami(tools.supervision.hang_up(record.channel))
    return Done(done=f"call {record.id} hung up")


async def set_queue_priority(tools: SupervisorTools, call: ApiRequest) -> Done:
    acd = tools.acd
    queue = call.path("queue")
    if queue not in acd.config.queues:
        raise ApiError(404, f"no queue {queue}")
    priority = call.body_as(PriorityBody).priority
    count = await acd.set_priority(queue, priority)
    return Done(done=f"{count} calls waiting in {queue} now have priority {priority}")


async def _spy(tools: SupervisorTools, call: ApiRequest, mode: SpyMode) -> Done:
    agent_id = call.path("agent_id")
    endpoint = await _on_call(tools.acd, agent_id)
    phone = call.body_as(SpyBody).phone
    await _ami(tools.supervision.spy(mode, endpoint, phone))
    return Done(done=f"{mode}: ringing {phone} to join agent {agent_id}'s call")


async def _on_call(acd: Acd, agent_id: str) -> str:
    """The endpoint of an agent who is talking (409 otherwise)."""
    configured = acd.config.agents.get(agent_id)
    if configured is None:
        raise ApiError(404, f"no agent {agent_id}")
    for record in await acd.agents():
        if record.status.agent_id == agent_id:
            if record.status.state is not AgentState.ON_CALL:
                raise ApiError(409, f"agent {agent_id} is {record.status.state}, not on a call")
            return record.endpoint or configured.endpoint
    raise ApiError(404, f"no agent {agent_id}")


async def _live_call(acd: Acd, call_id: str) -> CallRecord:
    for record in await acd.waiting():
        if record.id == call_id:
            if record.kind != "caller" or not record.channel:
                raise ApiError(409, f"call {call_id} has no caller on the line")
            return record
    raise ApiError(404, f"no call {call_id} is waiting or talking")


def _journal(acd: Acd, call_id: str, what: str) -> None:
    """Leave what the supervisor did for the call's journal (calls of this engine)."""
    ticket = acd.tickets.get(call_id)
    if ticket is not None:
        ticket.supervisor_action = what


_SPY_SUMMARIES = {
    SpyMode.LISTEN: "Listen to an agent's call (nobody hears the supervisor)",
    SpyMode.WHISPER: "Whisper to an agent (the caller does not hear)",
    SpyMode.BARGE: "Barge into an agent's call (both hear the supervisor)",
}


def _spy_endpoint(mode: SpyMode, handler: Handler[SupervisorTools]) -> Endpoint[SupervisorTools]:
    return Endpoint(
        "POST",
        f"{AGENT_PATH}/{mode.value}",
        handler,
        _SPY_SUMMARIES[mode],
        "supervisor",
        STAFF,
        body=SpyBody,
        response=Done,
        errors=(404, 409),
        description="Rings the supervisor's phone; on answer it joins the agent's call.",
    )


SUPERVISOR_ENDPOINTS: tuple[Endpoint[SupervisorTools], ...] = (
    Endpoint(
        "GET",
        "/agents",
        list_agents,
        "Every agent's state",
        "supervisor",
        STAFF,
        response=AgentList,
    ),
    Endpoint(
        "GET",
        "/queues",
        list_queues,
        "Every queue now and its day so far",
        "supervisor",
        STAFF,
        response=QueueList,
        description="The figures the wallboard shows, defined once: callers waiting now,"
        " the longest wait, the queue's agents by state, and today's answered and abandoned"
        " calls and service level, judged by the engine's reports.service_level settings"
        " from the hotline's midnight.",
    ),
    Endpoint(
        "POST",
        "/queues/{queue}/priority",
        set_queue_priority,
        "Raise or lower the calls waiting in a queue",
        "supervisor",
        STAFF,
        body=PriorityBody,
        response=Done,
        errors=(404,),
        description="Every call waiting in the queue now gets this priority; calls that"
        " enter later get the queue's configured one.",
    ),
    Endpoint(
        "GET",
        "/calls",
        list_calls,
        "Calls waiting, ringing or talking",
        "supervisor",
        STAFF,
        response=CallList,
    ),
    Endpoint(
        "POST",
        AGENT_PATH + "/force-logout",
        force_logout,
        "Log an agent out",
        "supervisor",
        STAFF,
        response=AgentView,
        errors=(404, 409),
        description="During a call, the agent is logged out when the call ends.",
    ),
    Endpoint(
        "POST",
        AGENT_PATH + "/force-pause",
        force_pause,
        "Pause an agent",
        "supervisor",
        STAFF,
        body=ForcePauseBody,
        optional_body=True,
        response=AgentView,
        errors=(404, 409),
        description="The body is optional (reason: supervisor). During a call, the pause"
        " starts when the call ends, and the agent's own requests cannot replace it"
        " meanwhile.",
    ),
    _spy_endpoint(SpyMode.LISTEN, listen_agent),
    _spy_endpoint(SpyMode.WHISPER, whisper_agent),
    _spy_endpoint(SpyMode.BARGE, barge_agent),
    Endpoint(
        "POST",
        "/calls/{call_id}/transfer",
        transfer_call,
        "Transfer a call",
        "supervisor",
        STAFF,
        body=TransferBody,
        response=Done,
        errors=(404, 409),
    ),
    Endpoint(
        "POST",
        "/calls/{call_id}/hangup",
        hang_up_call,
        "Hang up a call",
        "supervisor",
        STAFF,
        response=Done,
        errors=(404, 409),
    ),
)


async def _ami(action: object) -> None:
    try:
        await action  # type: ignore[misc]
    except AmiUnavailable as exc:
        raise ApiError(503, f"Asterisk is unavailable: {exc}") from exc
    except ActionRefused as exc:
        raise ApiError(409, str(exc)) from exc
