"""Shared pieces of the ACD service tests: a small configuration, a clock, row readers,
and the few steps every test takes (log agents in, run a pass, check the rows agree)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from acd.agents import AgentState
from acd.config import AcdConfig, parse_config
from acd.service.acd import Acd
from acd.store.agent_rows import AgentRecord, load_agent, load_agents
from acd.store.call_rows import CallRecord, load_call, load_calls
from acd.store.tables import AgentStateLogRow, QueueLogRow

T0 = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC
WRAP_UP_S = 5.0

RAW: dict[str, Any] = {
    "version": 1,
    "defaults": {"wrap_up_s": WRAP_UP_S},
    "agent_policy": {"max_missed": 2},
    "skills": {"general": "shared pool", "billing": "charges and bills"},
    "queues": {
        "general": {"requirements": {"general": 1}},
        "orders": {"requirements": {"general": 1}},
        "vip": {"requirements": {"general": 1}, "priority": 10},
        "billing": {
            "requirements": {"billing": 3},
            "escalation": [{"after": 30, "requirements": {"billing": 1}}],
        },
        "spill": {
            "requirements": {"billing": 5},
            "max_wait": {"after": 60, "action": "overflow", "queue": "general"},
        },
    },
    "agents": [
        {"ids": "8001-8004", "skills": {"general": 1}},
        {"ids": "8005", "skills": {"billing": 1}},
    ],
    "callbacks": {"retry_after_s": 60, "max_attempts": 2},
}
CONFIG: AcdConfig = parse_config(RAW, "<test>")


class Clock:
    """The injectable clock: epoch seconds that move only when told to."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


async def call_row(acd: Acd, call_id: str) -> CallRecord | None:
    async with acd.transaction() as conn:
        return await load_call(conn, call_id)


async def all_calls(acd: Acd) -> list[CallRecord]:
    async with acd.transaction() as conn:
        return await load_calls(conn, state=None)


async def agent_row(acd: Acd, agent_id: str) -> AgentRecord:
    async with acd.transaction() as conn:
        return await load_agent(conn, agent_id)


async def all_agents(acd: Acd) -> list[AgentRecord]:
    async with acd.transaction() as conn:
        return await load_agents(conn)


async def queue_log(acd: Acd, call_id: str | None = None) -> list[Any]:
    query = select(QueueLogRow).order_by(QueueLogRow.id)
    if call_id is not None:
        query = query.where(QueueLogRow.call_id == call_id)
    async with acd.transaction() as conn:
        return list(await conn.execute(query))


async def state_log(acd: Acd, agent_id: str | None = None) -> list[Any]:
    query = select(AgentStateLogRow).order_by(AgentStateLogRow.id)
    if agent_id is not None:
        query = query.where(AgentStateLogRow.agent_id == agent_id)
    async with acd.transaction() as conn:
        return list(await conn.execute(query))


async def events(acd: Acd, call_id: str) -> list[str]:
    return [row.event for row in await queue_log(acd, call_id)]


def inconsistencies(calls: list[CallRecord], agents: list[AgentRecord]) -> list[str]:
    """What is wrong between calls and agents read in one snapshot: every row offered or
    answered names an agent reserved for it or on it, no agent is named by two rows, and
    every agent reserved or on a call has exactly one row naming it."""
    problems: list[str] = []
    by_id = {r.status.agent_id: r.status for r in agents}
    named = [c for c in calls if c.state in ("offered", "answered")]
    for c in named:
        if c.reserved_agent is None:
            problems.append(f"call {c.id} is {c.state} to nobody")
            continue
        status = by_id.get(c.reserved_agent)
        want = AgentState.RESERVED if c.state == "offered" else AgentState.ON_CALL
        if status is None or (status.state, status.current_call) != (want, c.id):
            seen = None if status is None else (str(status.state), status.current_call)
            problems.append(f"call {c.id} is {c.state} to {c.reserved_agent}, who is {seen}")
    for r in agents:
        status = r.status
        rows = sorted(c.id for c in named if c.reserved_agent == status.agent_id)
        if len(rows) > 1:
            problems.append(f"agent {status.agent_id} is named by calls {rows}")
        if status.state.with_call and rows != [status.current_call]:
            problems.append(
                f"agent {status.agent_id} is {status.state} for {status.current_call},"
                f" rows naming it: {rows}"
            )
    return problems


async def reserved(acd: Acd) -> list[tuple[str, str]]:
    return (await acd.dispatcher.run_pass()).reserved


async def log_in(acd: Acd, *agent_ids: str) -> None:
    for agent_id in agent_ids:
        await acd.agent_event(agent_id, "log_in")


async def state(acd: Acd, agent_id: str) -> AgentState:
    return (await agent_row(acd, agent_id)).status.state


async def assert_consistent(acd: Acd) -> None:
    assert inconsistencies(await all_calls(acd), await all_agents(acd)) == []
