"""Agents in each state at a known moment, and a short way to apply events."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from acd.agents import AgentEvent, AgentState, AgentStatus, apply

T = 1000.0
AGENT = "1001"
CALL = "c1"

_BASE = {
    AgentState.LOGGED_OUT: AgentStatus(AGENT),
    AgentState.AVAILABLE: AgentStatus(AGENT, AgentState.AVAILABLE, since=T - 50),
    AgentState.RESERVED: AgentStatus(AGENT, AgentState.RESERVED, since=T - 5, current_call=CALL),
    AgentState.ON_CALL: AgentStatus(AGENT, AgentState.ON_CALL, since=T - 60, current_call=CALL),
    AgentState.WRAP_UP: AgentStatus(
        AGENT,
        AgentState.WRAP_UP,
        since=T - 30,
        current_call=CALL,
        last_call_end=T - 30,
        calls_today=1,
        wrap_up_until=T - 1,
    ),
    AgentState.PAUSED: AgentStatus(AGENT, AgentState.PAUSED, since=T - 50, pause_reason="break"),
}


def in_state(state: AgentState, **changes: Any) -> AgentStatus:
    """An agent in ``state`` (wrap-up: its deadline just passed), with ``changes``."""
    return replace(_BASE[state], **changes)


def run(status: AgentStatus, *events: AgentEvent, at: float = T, **details: Any) -> AgentStatus:
    """Apply events one after another (same moment and details), return the last status."""
    for event in events:
        status, _ = apply(status, event, at, **details)
    return status
