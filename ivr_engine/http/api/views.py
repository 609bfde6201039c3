"""What the API shows of agents, queues and calls (response models shared by modules)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from acd.agents import utc_datetime
from acd.config import AcdConfig, ServiceLevel
from acd.routing.choose import qualifies
from acd.routing.model import AgentView as RoutingAgent
from acd.store.agent_rows import AgentRecord
from acd.store.call_rows import CallRecord

CODE = r"^[a-z0-9][a-z0-9-]{0,31}$"
ID = r"^[A-Za-z0-9_.:-]{1,64}$"


class AgentView(BaseModel):
    id: str
    name: str
    state: str = Field(description="logged-out, available, reserved, on-call, wrap-up, paused")
    since: datetime
    pause_reason: str | None
    pending: str | None = Field(description="pause or log-out once the current call work ends")
    calls_today: int
    current_call: str | None
    wrap_up_until: datetime | None


class AgentList(BaseModel):
    agents: list[AgentView]


class CallView(BaseModel):
    call_id: str
    queue: str
    state: str = Field(description="waiting, offered, answered, callback, ...")
    kind: str = Field(description="caller (on the line) or callback (owed to a caller)")
    priority: int
    caller: str
    waited_s: float
    agent: str | None


class CallList(BaseModel):
    calls: list[CallView]


class QueueView(BaseModel):
    name: str
    waiting: int
    offered: int
    talking: int
    longest_wait_s: float
    service_level_target: str
    agents: dict[str, int] = Field(
        description="agents who can take the queue's calls (at its last escalation step), by state"
    )


class QueueList(BaseModel):
    queues: list[QueueView]


def agent_view(record: AgentRecord, config: AcdConfig) -> AgentView:
    status = record.status
    configured = config.agents.get(status.agent_id)
    return AgentView(
        id=status.agent_id,
        name=configured.name if configured else "",
        state=status.state.value,
        since=utc_datetime(status.since),
        pause_reason=status.pause_reason,
        pending=None if status.pending is None else status.pending.kind.value,
        calls_today=status.calls_today,
        current_call=status.current_call,
        wrap_up_until=None if status.wrap_up_until is None else utc_datetime(status.wrap_up_until),
    )


def call_view(record: CallRecord, now: float) -> CallView:
    return CallView(
        call_id=record.id,
        queue=record.queue,
        state=record.state,
        kind=record.kind,
        priority=record.call.priority,
        caller=record.caller,
        waited_s=round(max(0.0, now - record.call.entered_at), 1),
        agent=record.reserved_agent,
    )


def _target(level: ServiceLevel) -> str:
    return f"{level.target_pct} % within {level.threshold_s:g} s"


def queue_views(
    config: AcdConfig, agents: list[AgentRecord], calls: list[CallRecord], now: float
) -> list[QueueView]:
    views = []
    for name, queue in config.queues.items():
        mine = [c for c in calls if c.queue == name]
        waiting = [c for c in mine if c.state == "waiting" and c.kind == "caller"]
        by_state: dict[str, int] = {}
        for record in agents:
            configured = config.agents.get(record.status.agent_id)
            if configured is None:
                continue
            view = RoutingAgent(configured.id, configured.skills)
            if any(qualifies(view, stage.requirements) for stage in queue.routing.stages):
                state = record.status.state.value
                by_state[state] = by_state.get(state, 0) + 1
        views.append(
            QueueView(
                name=name,
                waiting=len(waiting),
                offered=sum(1 for c in mine if c.state == "offered"),
                talking=sum(1 for c in mine if c.state == "answered"),
                longest_wait_s=round(
                    max((now - c.call.entered_at for c in waiting), default=0.0), 1
                ),
                service_level_target=_target(queue.service_level),
                agents=by_state,
            )
        )
    return views
