"""What the API shows of agents, queues and calls (response models shared by modules)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from acd.agents import utc_datetime
from acd.config import AcdConfig, ServiceLevel
from acd.figures import Today, queues_now
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
    """A queue now and its day so far: the ACD's live figures (:mod:`acd.figures`), as the
    wallboard and ``/metrics`` show them (docs/wallboard.md defines each)."""

    name: str
    waiting: int = Field(description="callers waiting for an agent, ringing one included")
    offered: int = Field(description="of the callers waiting, those whose agent's phone rings")
    talking: int
    longest_wait_s: float = Field(description="the longest wait of a caller waiting now; 0: none")
    answered_today: int = Field(
        description="calls an agent picked up today (since the hotline's midnight)"
    )
    abandoned_today: int = Field(
        description="callers who hung up today while waiting or while an agent's phone rang,"
        " short abandons included"
    )
    service_level_today_pct: float | None = Field(
        description="the service level of today's calls, in percent (reports.service_level;"
        " with queue_thresholds, judged by the queue's own threshold); null: no call counts yet"
    )
    service_level_target: str | None = Field(description="null: the queue is no longer configured")
    agents: dict[str, int] = Field(
        description="agents who can take the queue's calls (its requirements before any"
        " escalation step), by state; states with nobody are left out"
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
    config: AcdConfig,
    agents: list[AgentRecord],
    calls: list[CallRecord],
    today: Today,
    now: float,
) -> list[QueueView]:
    views = []
    for queue in queues_now(config, agents, calls):
        settings = config.queues.get(queue.name)
        day = today.of(queue.name)
        views.append(
            QueueView(
                name=queue.name,
                waiting=queue.waiting,
                offered=queue.ringing,
                talking=queue.talking,
                longest_wait_s=queue.longest_wait_s(now) or 0.0,
                answered_today=day.answered,
                abandoned_today=day.abandoned,
                service_level_today_pct=day.service_level_pct,
                service_level_target=None if settings is None else _target(settings.service_level),
                agents={state: count for state, count in queue.agents.items() if count},
            )
        )
    return views
