"""The repairs from Asterisk's real channels (``Acd.reconcile``, ``acd.service.repairs``)
on SQLite and PostgreSQL: agents stuck reserved or on a call, callers' rows whose channel
or session is gone. Passes are run by hand with a clock the test moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from acd.agents import STUCK_GRACE, AgentState
from acd.service.acd import Acd
from acd.store.sync import sync_config
from tests.db.acd_support import (
    CONFIG,
    WRAP_UP_S,
    Clock,
    agent_row,
    all_calls,
    assert_consistent,
    call_row,
    log_in,
    queue_log,
    reserved,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def acd(db_url: str, clock: Clock) -> AsyncIterator[Acd]:
    await sync_config(db_url, CONFIG)
    service = Acd(db_url, CONFIG, "east", clock=clock)
    yield service
    await service.stop()


async def test_reconcile_repairs_an_agent_stuck_reserved(acd: Acd, clock: Clock) -> None:
    ticket = await acd.enqueue("c1", "general", unique_id="u1")
    await log_in(acd, "8001")
    assert await reserved(acd) == [("c1", "8001")]
    live = frozenset({"u1"})
    clock.advance(STUCK_GRACE - 1)
    assert await acd.reconcile(frozenset(), live) == []  # within the grace
    assert await acd.reconcile(frozenset({"8001"}), live) == []
    clock.advance(1)
    assert await acd.reconcile(frozenset({"8001"}), live) == []  # its phone rings: fine
    assert await acd.reconcile(frozenset(), live) == ["agent 8001: reservation_cancelled"]
    agent = (await agent_row(acd, "8001")).status
    assert (agent.state, agent.current_call, agent.missed_in_row) == (
        AgentState.AVAILABLE,
        None,
        0,
    )
    # The caller is still there: the call must not stay offered to an agent who is free
    # (it would never be routed again, and the agent could be reserved for a second row).
    await assert_consistent(acd)
    row = await call_row(acd, "c1")
    assert row is not None
    assert (row.state, row.reserved_agent) == ("waiting", None)
    assert ticket.offer is None


async def test_reconcile_ends_a_call_an_agent_is_stuck_on(acd: Acd, clock: Clock) -> None:
    ticket = await acd.enqueue("c1", "general", unique_id="u1")
    await log_in(acd, "8001")
    assert await reserved(acd) == [("c1", "8001")]
    assert await acd.answered("c1", "8001") is not None
    clock.advance(STUCK_GRACE)
    assert await acd.reconcile(frozenset(), frozenset({"u1"})) == ["agent 8001: call_end"]
    agent = (await agent_row(acd, "8001")).status
    assert agent.state is AgentState.WRAP_UP  # the queue's wrap-up, from now
    assert agent.wrap_up_until == pytest.approx(clock.now + WRAP_UP_S)
    assert agent.calls_today == 1
    assert ticket.answered_at is not None


async def test_reconcile_closes_rows_of_callers_who_are_gone(acd: Acd, clock: Clock) -> None:
    await acd.enqueue("gone", "general", unique_id="u1")
    await acd.enqueue("here", "general", unique_id="u2")
    await acd.enqueue("untracked", "general")  # no channel known: only the session counts
    assert await acd.reconcile(frozenset(), frozenset({"u2"})) == []  # too young
    clock.advance(STUCK_GRACE)
    assert await acd.reconcile(frozenset(), frozenset({"u2"})) == ["call gone: abandoned"]
    assert {c.id for c in await all_calls(acd)} == {"here", "untracked"}
    closed = (await queue_log(acd, "gone"))[-1]
    assert (closed.event, closed.wait_s, closed.detail) == (
        "abandon",
        STUCK_GRACE,
        "reconciled: no channel",
    )


async def test_reconcile_after_a_restart_closes_rows_no_session_holds(
    acd: Acd, db_url: str, clock: Clock
) -> None:
    await acd.enqueue("old", "general")
    clock.advance(STUCK_GRACE)
    restarted = Acd(db_url, CONFIG, "east", clock=clock)  # the same instance, run again
    other = Acd(db_url, CONFIG, "west", clock=clock)
    try:
        assert await other.reconcile(frozenset(), frozenset()) == []  # not its row
        await restarted.enqueue("new", "general")
        assert await restarted.reconcile(frozenset(), frozenset()) == ["call old: abandoned"]
        assert [c.id for c in await all_calls(acd)] == ["new"]
        assert (await queue_log(acd, "old"))[-1].detail == "reconciled: no session"
    finally:
        await restarted.stop()
        await other.stop()


async def test_reconcile_closes_a_talk_whose_channels_are_gone_as_complete(
    acd: Acd, clock: Clock
) -> None:
    """The agent's channel and the caller's are both gone: the agent's repair ends the
    call, and then the caller's row is closed as a complete talk, not an abandon."""
    ticket = await acd.enqueue("c1", "general", unique_id="u1")
    await log_in(acd, "8001")
    assert await reserved(acd) == [("c1", "8001")]
    assert await acd.answered("c1", "8001") is not None
    clock.advance(STUCK_GRACE)
    assert await acd.reconcile(frozenset(), frozenset()) == [
        "agent 8001: call_end",
        "call c1: complete",
    ]
    assert await call_row(acd, "c1") is None
    assert ticket.done and "c1" not in acd.tickets
    closed = (await queue_log(acd, "c1"))[-1]
    assert (closed.event, closed.agent_id, closed.wait_s, closed.detail) == (
        "complete",
        "8001",
        None,
        "reconciled: no channel",
    )
    assert (await agent_row(acd, "8001")).status.state is AgentState.WRAP_UP
    await assert_consistent(acd)


async def test_reconcile_leaves_a_talk_alone_while_its_agent_is_on_it(
    acd: Acd, clock: Clock
) -> None:
    """The caller's channel is not seen, but the agent is still talking: on the phone, or
    on the call in the store and too recently for a repair of the agent."""
    await acd.enqueue("c1", "general", unique_id="u1")
    clock.advance(STUCK_GRACE)
    await log_in(acd, "8001")
    assert await reserved(acd) == [("c1", "8001")]
    assert await acd.answered("c1", "8001") is not None
    assert await acd.reconcile(frozenset({"8001"}), frozenset()) == []  # on the phone
    assert await acd.reconcile(frozenset(), frozenset()) == []  # on the call since just now
    row = await call_row(acd, "c1")
    assert row is not None and (row.state, row.reserved_agent) == ("answered", "8001")
    assert (await agent_row(acd, "8001")).status.state is AgentState.ON_CALL


async def test_reconcile_puts_a_callback_back_in_line_once_its_agent_moved_on(
    acd: Acd,
) -> None:
    """The callback stays offered to an agent whose reservation ended without it (no
    dialler took it up): it goes back in line, for any agent."""
    ticket = await acd.enqueue("c1", "general")
    assert await acd.to_callback(ticket, "13900139000")
    await log_in(acd, "8001")
    assert await reserved(acd) == [("c1", "8001")]  # no callback runner: nobody rings
    assert await acd.reconcile(frozenset(), frozenset()) == []  # 8001 is reserved for it
    await acd.agent_event("8001", "reservation_cancelled")
    assert await acd.reconcile(frozenset(), frozenset()) == ["callback c1: back in line"]
    row = await call_row(acd, "c1")
    assert row is not None
    assert (row.kind, row.state, row.reserved_agent) == ("callback", "waiting", None)
    await assert_consistent(acd)
