"""Two ACD instances on one PostgreSQL database: never an agent or a call twice.

Each instance has its own engine and pool, as two engine processes would. The randomised
test runs many interleavings of callers, agents and matching passes on both instances at
once and checks the store's invariants while it runs and once it is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from acd.agents import AgentState, PauseReasonError, TransitionError
from acd.service.acd import Acd
from acd.service.tickets import Offer, Ticket
from acd.store.agent_rows import load_agents
from acd.store.call_rows import CallRecord, load_call, load_calls
from acd.store.sync import sync_config
from tests.db.acd_support import (
    CONFIG,
    Clock,
    agent_row,
    all_agents,
    all_calls,
    call_row,
    inconsistencies,
    queue_log,
    state_log,
)
from tests.db.conftest import PgDatabase

pytestmark = pytest.mark.postgres

AGENTS = ("8001", "8002", "8003", "8004")
QUEUES = ("general", "orders", "vip")
SEEDS = range(30)


@dataclass
class Pair:
    east: Acd
    west: Acd
    clock: Clock
    url: str

    @property
    def both(self) -> tuple[Acd, Acd]:
        return self.east, self.west


@pytest.fixture
async def pair(fresh_postgres: PgDatabase) -> AsyncIterator[Pair]:
    url = fresh_postgres.url()
    await sync_config(url, CONFIG)
    clock = Clock()
    east = Acd(url, CONFIG, "east", clock=clock)
    west = Acd(url, CONFIG, "west", clock=clock)
    try:
        yield Pair(east, west, clock, url)
    finally:
        await east.stop()
        await west.stop()


async def snapshot(engine: AsyncEngine) -> list[str]:
    """The invariants, checked on one consistent snapshot of calls and agents."""
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            calls = await load_calls(conn, state=None)
            agents = await load_agents(conn)
    return inconsistencies(calls, agents)


# -- explicit races ------------------------------------------------------------------------
async def test_simultaneous_passes_reserve_the_one_free_agent_once(pair: Pair) -> None:
    east, west = pair.both
    await east.agent_event("8001", "log_in")
    for round_ in range(15):
        here = await east.enqueue(f"e{round_}", "general")
        there = await west.enqueue(f"w{round_}", "general")
        results = await asyncio.gather(east.dispatcher.run_pass(), west.dispatcher.run_pass())
        made = [r for result in results for r in result.reserved]
        assert len(made) == 1, (round_, made)
        calls = await all_calls(east)
        assert [(c.id, c.reserved_agent) for c in calls if c.state == "offered"] == made
        assert inconsistencies(calls, await all_agents(east)) == []
        for acd in pair.both:  # both deliver to their own tickets
            await acd.dispatcher.run_pass()
        offered = [t for t in (here, there) if t.offer is not None]
        assert [(t.call_id, t.offer) for t in offered] == [
            (made[0][0], Offer("8001", "PJSIP/8001"))
        ]
        await east.abandon(here)
        await west.abandon(there)
        assert (await agent_row(east, "8001")).status.state is AgentState.AVAILABLE


async def test_an_offer_made_by_one_instance_reaches_the_owner_on_its_next_pass(
    pair: Pair,
) -> None:
    east, west = pair.both
    ticket = await east.enqueue("c1", "general")
    await west.agent_event("8002", "log_in")
    assert (await west.dispatcher.run_pass()).reserved == [("c1", "8002")]
    assert ticket.offer is None  # west holds no session for it
    assert (await east.dispatcher.run_pass()).reserved == []
    assert ticket.offer == Offer("8002", "PJSIP/8002")
    assert await west.answered("c1", "8002") is not None  # any instance may record it
    await east.finished(ticket, "8002")
    assert [r.event for r in await queue_log(east, "c1")] == [
        "enter",
        "offer",
        "answer",
        "complete",
    ]


async def test_reconcile_leaves_the_other_instances_running_callback_alone(
    pair: Pair,
) -> None:
    """West reserved an agent for its callback and is about to ring the agent; east's
    reconciler, a moment later, sees no channel of that agent yet."""
    east, west = pair.both
    ringing = asyncio.Event()
    release = asyncio.Event()

    async def runner(record: CallRecord, offer: Offer) -> None:
        ringing.set()
        await release.wait()

    west.callback_runner = runner
    ticket = await west.enqueue("c1", "general")
    assert await west.to_callback(ticket, "13900139000")
    await west.agent_event("8001", "log_in")
    assert (await west.dispatcher.run_pass()).reserved == [("c1", "8001")]
    await asyncio.wait_for(ringing.wait(), 5)

    assert await east.reconcile(frozenset(), frozenset()) == []
    row = await call_row(east, "c1")
    assert row is not None
    assert (row.state, row.reserved_agent) == ("offered", "8001")
    assert inconsistencies(await all_calls(east), await all_agents(east)) == []
    release.set()


async def test_an_abandon_racing_another_instances_pass_frees_the_agent(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller hangs up while west's pass reserves an agent for the call: east's
    ``abandon`` read the row as waiting, west then committed the offer, east deleted the
    row. Made deterministic by running west's pass right after east's read."""
    east, west = pair.both
    ticket = await east.enqueue("c1", "general")
    await west.agent_event("8001", "log_in")
    read = load_call
    raced: list[list[tuple[str, str]]] = []

    async def read_then_race(
        conn: AsyncConnection, call_id: str, **kwargs: Any
    ) -> CallRecord | None:
        record = await read(conn, call_id, **kwargs)
        if not raced:
            raced.append((await west.dispatcher.run_pass()).reserved)
        return record

    monkeypatch.setattr("acd.service.call_writes.load_call", read_then_race)
    await east.abandon(ticket)
    # The abandon holds the row: the other instance's pass skips it instead of offering it.
    assert raced == [[]]
    assert await call_row(east, "c1") is None
    assert inconsistencies(await all_calls(east), await all_agents(east)) == []
    assert (await agent_row(east, "8001")).status.state is AgentState.AVAILABLE


async def test_a_ring_out_during_a_pass_does_not_bring_the_old_offer_back(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass reads the offered calls to deliver them; before it hands them over, the
    caller reports the ring-out. The ticket must not get that agent's offer again."""
    east = pair.east
    ticket = await east.enqueue("c1", "general")
    await east.agent_event("8001", "log_in")
    assert (await east.dispatcher.run_pass()).reserved == [("c1", "8001")]
    assert ticket.offer == Offer("8001", "PJSIP/8001")
    read = load_calls
    raced: list[str] = []

    async def read_then_ring_out(conn: AsyncConnection, **kwargs: Any) -> list[CallRecord]:
        records = await read(conn, **kwargs)
        if kwargs.get("state") == "offered" and not raced:
            raced.append("c1")
            await east.not_answered("c1", "8001", "NOANSWER")
        return records

    monkeypatch.setattr("acd.service.dispatcher.load_calls", read_then_ring_out)
    await east.dispatcher.run_pass()
    assert raced == ["c1"]
    row = await call_row(east, "c1")
    assert row is not None and (row.state, row.reserved_agent) == ("waiting", None)
    assert ticket.offer is None  # 8001 declined it: an offer of 8001 is stale


# -- the randomised interleavings ----------------------------------------------------------
@dataclass
class Sim:
    pair: Pair
    rng: random.Random
    outcomes: dict[str, str | None] = field(default_factory=dict)  # call -> complete/abandon
    problems: list[str] = field(default_factory=list)
    callers_left: int = 0

    async def tiny(self) -> None:
        await asyncio.sleep(self.rng.choice((0.0, 0.0, 0.0005, 0.002)))

    def acd(self) -> Acd:
        return self.rng.choice(self.pair.both)

    async def caller(self, call_id: str) -> None:
        rng = self.rng
        try:
            await asyncio.sleep(rng.uniform(0, 0.05))
            acd = self.acd()
            ticket = await acd.enqueue(call_id, rng.choice(QUEUES))
            self.outcomes[call_id] = None
            self.outcomes[call_id] = await self._session(acd, ticket)
        finally:
            self.callers_left -= 1

    async def _session(self, acd: Acd, ticket: Ticket) -> str:
        rng = self.rng
        call_id = ticket.call_id
        for _ in range(12):
            offer = await ticket.wait_offer(rng.uniform(0.005, 0.03))
            if offer is None:
                if rng.random() < 0.08:
                    await acd.abandon(ticket)
                    return "abandon"
                continue
            await self.tiny()
            roll = rng.random()
            if roll < 0.15:
                await acd.abandon(ticket, "hung up while it rang")
                return "abandon"
            if roll < 0.4:
                await acd.not_answered(call_id, offer.agent_id, "NOANSWER")
                continue
            if await acd.answered(call_id, offer.agent_id) is None:
                row = await call_row(acd, call_id)
                seen = None if row is None else (row.state, row.reserved_agent)
                self.problems.append(f"{call_id}: offer of {offer.agent_id} was stale: {seen}")
                await acd.not_answered(call_id, offer.agent_id, "ABORT")  # as the desk does
                continue
            await self.tiny()
            await acd.finished(ticket, offer.agent_id)
            return "complete"
        await acd.abandon(ticket, "gave up")
        return "abandon"

    async def agents(self) -> None:
        rng = self.rng
        while self.callers_left:
            await self.tiny()
            agent_id = rng.choice(AGENTS)
            acd = self.acd()
            state = (await agent_row(acd, agent_id)).status.state
            if state is AgentState.LOGGED_OUT or state is AgentState.PAUSED:
                event = "log_in" if state is AgentState.LOGGED_OUT else "ready"
            elif rng.random() < 0.1:
                event = "pause"
            else:
                continue
            with contextlib.suppress(TransitionError, PauseReasonError):
                await acd.agent_event(agent_id, event)

    async def passes(self) -> None:
        rng = self.rng
        east, west = self.pair.both
        while self.callers_left:
            if rng.random() < 0.6:
                await asyncio.gather(east.dispatcher.run_pass(), west.dispatcher.run_pass())
            else:
                await self.acd().dispatcher.run_pass()
            self.pair.clock.advance(rng.choice((0.0, 0.0, 0.5, 2.0)))
            await self.tiny()

    async def watch(self, engine: AsyncEngine) -> None:
        while self.callers_left:
            for problem in await snapshot(engine):
                self.problems.append(f"while running: {problem}")
            await asyncio.sleep(self.rng.uniform(0, 0.01))


def east_of(pair: Pair) -> Acd:
    return pair.east


async def history(acd: Acd, problems: list[str]) -> str:
    """The queue log and agent state log of the calls the first problem names."""
    names = {word.strip(",:[]'") for word in problems[0].split()}
    queue_lines = [
        f"  queue {r.id} {r.call_id} {r.event} {r.agent_id} {r.detail}"
        for r in await queue_log(acd)
        if r.call_id in names
    ]
    agent_lines = [
        f"  agent {r.id} {r.agent_id} {r.call_id} {r.event} {r.from_state}->{r.to_state}"
        for r in await state_log(acd)
        if r.call_id in names
    ]
    return "\n".join([*problems[:5], *queue_lines, *agent_lines])


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_interleavings_keep_the_invariants(pair: Pair, seed: int) -> None:
    rng = random.Random(seed)
    sim = Sim(pair, rng)
    calls = [f"s{seed}c{n}" for n in range(rng.randint(6, 12))]
    sim.callers_left = len(calls)
    watcher = create_async_engine(pair.url)
    try:
        async with asyncio.timeout(60), asyncio.TaskGroup() as tasks:
            for call_id in calls:
                tasks.create_task(sim.caller(call_id))
            tasks.create_task(sim.agents())
            tasks.create_task(sim.passes())
            tasks.create_task(sim.watch(watcher))
        final = await snapshot(watcher)
    finally:
        await watcher.dispose()
    assert sim.problems == [], await history(east_of(pair), sim.problems)
    assert final == [], await history(east_of(pair), final)

    east = pair.east
    # Every call is accounted for: nobody waits any more, each has one terminal line
    # that says what its session saw.
    assert await all_calls(east) == []
    log = await queue_log(east)
    for call_id in calls:
        lines = [r for r in log if r.call_id == call_id]
        terminal = [r.event for r in lines if r.event in ("complete", "abandon")]
        assert terminal == [sim.outcomes[call_id]], (call_id, [r.event for r in lines])
        # Offered to one agent at a time: each offer is resolved before the next.
        holder: str | None = None
        for r in lines:
            if r.event == "offer":
                assert holder is None, (call_id, r.agent_id, "while offered to", holder)
                holder = r.agent_id
            elif r.event in ("ring-no-answer", "answer"):
                assert r.agent_id == holder, (call_id, r.event, r.agent_id, holder)
                holder = None if r.event == "ring-no-answer" else holder
            elif r.event == "abandon":
                holder = None
    # No agent is left reserved or on a call, and each agent's log is one unbroken chain.
    for record in await all_agents(east):
        assert not record.status.state.with_call, record.status
    for agent_id in AGENTS:
        chain = [(r.from_state, r.to_state, r.event) for r in await state_log(east, agent_id)]
        for (_, before, _), (after, _, event) in pairwise(chain):
            assert before == after, (agent_id, event, chain)
