"""The ACD's change feed and each instance's mirror of it, on SQLite and PostgreSQL.

Every insert and update of an agent or a waiting call, by whatever writer (the ACD, the
command line, a test's plain SQL), is marked so that a running instance reads it at its
next pass; rows another instance deleted are found out when reserving them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, select, update

from acd.agents import AgentState
from acd.config import parse_config
from acd.service.acd import Acd
from acd.store.changes import feed_position
from acd.store.sync import sync_config
from acd.store.tables import AgentRow, WaitingCallRow
from tests.db.acd_support import CONFIG, RAW, Clock, agent_row, call_row


@dataclass
class Two:
    """Two instances on one database: ``here`` holds the callers, ``there`` is another
    engine process or the command line."""

    here: Acd
    there: Acd
    clock: Clock
    url: str


@pytest.fixture
async def two(db_url: str) -> AsyncIterator[Two]:
    await sync_config(db_url, CONFIG)
    clock = Clock()
    here = Acd(db_url, CONFIG, "east", clock=clock)
    there = Acd(db_url, CONFIG, "cli", clock=clock)
    try:
        yield Two(here, there, clock, db_url)
    finally:
        await here.stop()
        await there.stop()


async def marks(acd: Acd, table: type[AgentRow] | type[WaitingCallRow]) -> dict[str, int]:
    key = AgentRow.id if table is AgentRow else WaitingCallRow.call_id
    async with acd.transaction() as conn:
        rows = await conn.execute(select(key, table.changed))
        return {row[0]: row[1] for row in rows}


async def position(acd: Acd) -> int:
    async with acd.transaction() as conn:
        return (await feed_position(conn)).marks


async def skills_counter(acd: Acd) -> int:
    async with acd.transaction() as conn:
        return (await feed_position(conn)).skills


async def reserved(acd: Acd) -> list[tuple[str, str]]:
    return (await acd.dispatcher.run_pass()).reserved


async def test_every_write_marks_its_row_past_the_last_read_position(two: Two) -> None:
    acd = two.here
    start = await position(acd)
    await acd.agent_event("8001", "log_in")  # through the ACD
    await acd.enqueue("c1", "general")
    agents, calls = await marks(acd, AgentRow), await marks(acd, WaitingCallRow)
    assert agents["8001"] >= start and calls["c1"] >= start
    assert all(agents[a] < start for a in ("8002", "8003", "8004", "8005"))  # untouched

    middle = await position(acd)
    async with acd.transaction() as conn:  # a plain SQL writer (a test set-up, a repair)
        await conn.execute(update(AgentRow).where(AgentRow.id == "8002").values(name="x"))
        await conn.execute(
            update(WaitingCallRow).where(WaitingCallRow.call_id == "c1").values(priority=3)
        )
    agents, calls = await marks(acd, AgentRow), await marks(acd, WaitingCallRow)
    assert agents["8002"] >= middle and calls["c1"] >= middle
    assert agents["8001"] < middle
    assert await position(acd) > middle or acd.postgres  # SQLite: the counter moved on


async def test_an_agent_logged_in_by_another_process_is_routed_at_the_next_pass(
    two: Two,
) -> None:
    ticket = await two.here.enqueue("c1", "general")
    assert await reserved(two.here) == []  # the mirror is loaded: nobody is logged in
    await two.there.agent_event("8002", "log_in")  # e.g. ivr-engine acd agent 8002 log_in
    assert await reserved(two.here) == [("c1", "8002")]
    assert ticket.offer is not None and ticket.offer.agent_id == "8002"


async def test_an_agent_logged_out_by_plain_sql_is_not_reserved(two: Two) -> None:
    acd = two.here
    await acd.agent_event("8001", "log_in")
    assert await reserved(acd) == []  # mirror: 8001 free, nobody waits
    async with acd.transaction() as conn:  # as the test harness's reset does
        await conn.execute(update(AgentRow).values(state="logged-out"))
    await acd.enqueue("c1", "general")
    assert await reserved(acd) == []
    assert (await agent_row(acd, "8001")).status.state is AgentState.LOGGED_OUT


async def test_a_call_another_instance_deleted_is_skipped_for_the_next(two: Two) -> None:
    acd = two.here
    first = await two.there.enqueue("gone", "general")  # the other instance's caller
    two.clock.advance(1)
    await acd.enqueue("c2", "general")
    assert await reserved(acd) == []  # both in the mirror, nobody free
    await two.there.abandon(first)  # deleted there: no mark here
    await acd.agent_event("8001", "log_in")
    assert await reserved(acd) == [("c2", "8001")]
    assert await call_row(acd, "gone") is None


async def test_a_call_deleted_by_plain_sql_is_never_offered(two: Two) -> None:
    acd = two.here
    for n in range(3):
        await two.there.enqueue(f"old{n}", "general")
        two.clock.advance(1)
    await acd.enqueue("new", "general")
    assert await reserved(acd) == []
    async with acd.transaction() as conn:
        await conn.execute(delete(WaitingCallRow).where(WaitingCallRow.call_id != "new"))
    await acd.agent_event("8001", "log_in")
    assert await reserved(acd) == [("new", "8001")]


async def test_a_priority_set_elsewhere_applies_at_the_next_pass(two: Two) -> None:
    acd = two.here
    await acd.enqueue("g1", "general")
    two.clock.advance(1)
    await acd.enqueue("o1", "orders")
    assert await reserved(acd) == []
    assert await two.there.set_priority("orders", 5) == 1
    await acd.agent_event("8001", "log_in")
    assert await reserved(acd) == [("o1", "8001")]


async def test_skills_synced_by_another_engine_are_used_at_the_next_pass(two: Two) -> None:
    acd = two.here
    await acd.agent_event("8005", "log_in")  # billing 1
    await acd.enqueue("b1", "billing")  # needs billing 3 for its first 30 s
    assert await reserved(acd) == []
    before = await skills_counter(acd)
    assert not (await sync_config(two.url, CONFIG)).changed  # nothing new: counter stays
    assert await skills_counter(acd) == before
    raw = {**RAW, "agents": [*RAW["agents"][:1], {"ids": "8005", "skills": {"billing": 4}}]}
    report = await sync_config(two.url, parse_config(raw, "<test>"))  # another engine starts
    assert "8005/billing" in report.agent_skills.changed
    assert await skills_counter(acd) > before
    assert await reserved(acd) == [("b1", "8005")]


async def test_the_first_pass_of_a_new_instance_reads_everything(two: Two) -> None:
    await two.there.agent_event("8001", "log_in")
    await two.there.enqueue("c1", "general")
    fresh = Acd(two.url, CONFIG, "west", clock=two.clock)
    try:
        assert await reserved(fresh) == [("c1", "8001")]
    finally:
        await fresh.stop()
