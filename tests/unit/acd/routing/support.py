"""Builders for routing scenarios, and the two implementations behind one interface."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from acd.routing import (
    AgentIndex,
    AgentView,
    CallIndex,
    QueueConfig,
    Requirement,
    WaitingCall,
    choose_agent,
    choose_call,
)


def req(**levels: int) -> tuple[Requirement, ...]:
    """req(billing=3, mandarin=2): the requirements, in the order given."""
    return tuple(Requirement(skill, level) for skill, level in levels.items())


def agent(
    id: str,
    *,
    available: bool = True,
    idle: float = 0.0,
    calls: int = 0,
    queues: Iterable[str] | None = None,
    **skills: int,
) -> AgentView:
    return AgentView(
        id,
        skills,
        available=available,
        idle_since=idle,
        calls_today=calls,
        queues=None if queues is None else frozenset(queues),
    )


def call(
    id: str,
    queue: str = "q",
    *,
    priority: int = 0,
    entered: float = 0.0,
    declined: Iterable[str] = (),
    queued_at: float | None = None,
) -> WaitingCall:
    return WaitingCall(id, queue, priority, entered, frozenset(declined), queued_at)


class Router(Protocol):
    """The two routing decisions, whichever implementation answers them."""

    def agent_for(
        self,
        call: WaitingCall,
        queue: QueueConfig,
        agents: Iterable[AgentView],
        now: float,
        last_assigned: str | None = None,
    ) -> AgentView | None: ...

    def call_for(
        self,
        agent: AgentView,
        calls: Iterable[WaitingCall],
        queues: Mapping[str, QueueConfig],
        now: float,
    ) -> WaitingCall | None: ...


class Spec:
    """The plain functions of acd.routing.choose."""

    def agent_for(
        self,
        call: WaitingCall,
        queue: QueueConfig,
        agents: Iterable[AgentView],
        now: float,
        last_assigned: str | None = None,
    ) -> AgentView | None:
        return choose_agent(call, queue, agents, now, last_assigned=last_assigned)

    def call_for(
        self,
        agent: AgentView,
        calls: Iterable[WaitingCall],
        queues: Mapping[str, QueueConfig],
        now: float,
    ) -> WaitingCall | None:
        return choose_call(agent, calls, queues, now)


class Indexed:
    """AgentIndex / CallIndex built from the same inputs."""

    def agent_for(
        self,
        call: WaitingCall,
        queue: QueueConfig,
        agents: Iterable[AgentView],
        now: float,
        last_assigned: str | None = None,
    ) -> AgentView | None:
        index = AgentIndex([queue], agents)
        return index.choose_agent(call, now, last_assigned=last_assigned)

    def call_for(
        self,
        agent: AgentView,
        calls: Iterable[WaitingCall],
        queues: Mapping[str, QueueConfig],
        now: float,
    ) -> WaitingCall | None:
        return CallIndex(queues.values(), calls).choose_call(agent, now)
