"""The ACD's periodic work, in one pass: finish due wrap-ups, reserve agents for waiting
calls, and find the offers other instances made to this instance's calls.

A pass is one transaction. It first reads what changed since the last pass (the change
feed: only the agent and call rows marked since, see :mod:`acd.service.mirror`), then
pairs waiting calls with free agents on the instance's in-memory indexes
(:func:`acd.routing.match_all`: exactly the pairs of :func:`acd.service.matching.pair_up`,
without looking at calls that wait for skills nobody free has), then checks each chosen
agent and call against its row before writing anything. On PostgreSQL those rows are read
``FOR UPDATE SKIP LOCKED``: a row another instance is deciding on is left out of this
pass, so two instances never take the same agent or call; a row that changed since the
mirror last saw it is taken as read and the pairing is made again. Every write is also a
compare-and-set (agent ``version``, call ``state``), so a lost race rolls the pass back
instead of reserving anything twice. SQLite has one writer at a time (its transactions
take the write lock when they begin).

``Dispatcher.run`` repeats passes: at once when poked (a call entered, an agent freed up),
at the next escalation step or wrap-up end, and at least every ``poll_interval`` seconds,
which is also how it sees other instances' changes when no notification woke it.

The dispatcher knows the ACD only through what it is given: the database, its mirror,
and ``deliver``, which takes each offer for one of this instance's calls once the pass
that made or found it has committed (:meth:`acd.service.acd.Acd.deliver`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.agents import AgentEvent, AgentPolicy, TransitionError, apply
from acd.metrics import AcdMetrics
from acd.routing import AgentView, WaitingCall, match_all
from acd.service.database import AcdDatabase
from acd.service.mirror import Mirror
from acd.service.sqlite_thread import drive
from acd.service.tickets import Offer
from acd.store.agent_rows import (
    AgentRecord,
    StaleAgent,
    existing_agents,
    load_agents,
    transition,
    write_status,
)
from acd.store.call_rows import (
    CallRecord,
    existing_calls,
    load_calls,
    log_queue,
    move_call,
)

log = logging.getLogger(__name__)

__all__ = ["Deliver", "Dispatcher", "PassResult"]

Deliver = Callable[[CallRecord, Offer], Awaitable[None]]
"""Takes an offer for one of this instance's calls (its ticket or callback runner)."""


@dataclass(frozen=True)
class PassResult:
    reserved: list[tuple[str, str]]  # (call id, agent id)
    next_at: float | None  # when the next escalation step or wrap-up end is due


class _LostRace(Exception):
    """A call changed under the pass: roll back and try again next pass."""


_ROUNDS = 4  # pairings made again within one pass after rows turned out to have changed


class _Rows(enum.Enum):
    AGREE = "agree"  # every chosen row is as the mirror had it
    GONE = "gone"  # some were deleted (by another instance): forgotten
    CHANGED = "changed"  # some changed or are held by another instance


Pairs = list[tuple[WaitingCall, AgentView]]


@dataclass
class _Pass:
    """One matching pass: what it read, decided and changed, for whichever thread runs it."""

    now: float
    unfit: frozenset[str]
    window_open: bool
    last: dict[str, str]  # round-robin: the last agent given to each queue, as it goes
    touched: tuple[set[str], set[str]] = field(default_factory=lambda: (set(), set()))
    held: tuple[set[str], set[str]] = field(default_factory=lambda: (set(), set()))
    done: list[tuple[WaitingCall, AgentView, AgentRecord]] = field(default_factory=list)
    offered: list[CallRecord] = field(default_factory=list)
    decisions: list[float] = field(default_factory=list)  # seconds of each choice
    again: bool = False  # rows kept changing under the pass: run another at once


class Dispatcher:
    """The passes of one instance. ``instance``: whose offered calls it delivers;
    ``unfit_agents``: agents whose phones cannot ring now (device states);
    ``callback_window_open``: whether callbacks may be routed now."""

    def __init__(
        self,
        database: AcdDatabase,
        mirror: Mirror,
        deliver: Deliver,
        *,
        instance: str,
        policy: AgentPolicy,
        clock: Callable[[], float],
        metrics: AcdMetrics,
        poll_interval: float,
        unfit_agents: Callable[[], frozenset[str]],
        callback_window_open: Callable[[], bool],
    ) -> None:
        self._database = database
        self.mirror = mirror
        self._deliver = deliver
        self._instance = instance
        self._policy = policy
        self._clock = clock
        self._metrics = metrics
        self.poll_interval = poll_interval
        self._unfit_agents = unfit_agents
        self._callback_window_open = callback_window_open
        self.last_assigned: dict[str, str] = {}  # queue -> agent, for round-robin
        self.passes = 0
        self.failures = 0
        self.last_error: str | None = None
        self._forgotten: collections.deque[str] = collections.deque()  # thread-safe
        self._poke = asyncio.Event()
        self._one_pass = asyncio.Lock()

    def poke(self) -> None:
        self._poke.set()

    @property
    def idle(self) -> bool:
        """No pass is running and none has been asked for."""
        return not self._poke.is_set() and not self._one_pass.locked()

    async def wait_idle(self) -> None:
        """Until the passes asked for so far have run (with ``run`` going: for tests and
        benchmarks that want to start from a quiet dispatcher)."""
        while not self.idle:
            async with self._one_pass:  # the pass running, if any, is over
                pass
            await asyncio.sleep(0)  # the loop takes the poke, if one is waiting

    def forget(self, call_id: str) -> None:
        """This instance deleted the call's row (the feed shows inserts and updates only)."""
        self._forgotten.append(call_id)

    async def run(self) -> None:
        while True:
            self._poke.clear()
            wait = self.poll_interval
            try:
                result = await self.run_pass()
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                self.failures += 1
                self._metrics.error("acd_database")
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("ACD pass failed (%s); retrying", self.last_error)
            else:
                self.last_error = None
                if result.next_at is not None:
                    wait = min(wait, max(0.0, result.next_at - self._clock()) + 0.01)
            # Not asyncio.wait_for: on Python 3.11 it loses a cancellation that comes just
            # as the poke does, and the loop would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._poke.wait()

    async def run_pass(self) -> PassResult:
        async with self._one_pass:  # the mirror is read and changed by one pass at a time
            now = self._clock()
            self.passes += 1
            work = _Pass(
                now,
                self._unfit_agents(),
                self._callback_window_open(),
                dict(self.last_assigned),
            )
            started = time.perf_counter()
            try:
                if self._database.threaded:
                    await self._database.in_thread(lambda: self._sqlite_pass(work))
                else:
                    await self._postgres_pass(work)
            except (_LostRace, StaleAgent) as exc:
                log.info("ACD pass lost a race (%s); again at once", exc)
                work.again, work.done, work.decisions = True, [], []
                work.offered = await self._offered()
            self.last_assigned.update(work.last)
            for seconds in work.decisions:
                self._metrics.acd_decision(seconds)
            if work.decisions:
                self._metrics.acd_pass(time.perf_counter() - started)  # committed: a decision
            if work.again:
                self.poke()
            for record in work.offered:  # committed: this instance's callers may dial now
                agent = record.reserved_agent
                if agent is not None:
                    await self._deliver(record, Offer(agent, self.mirror.endpoint(agent)))
            reserved = [(call.id, agent.id) for call, agent, _ in work.done]
            return PassResult(reserved, self.mirror.next_at(now))

    def _sqlite_pass(self, work: _Pass) -> None:
        """The pass in the ACD's SQLite thread: one hand-over for the whole transaction."""
        try:
            with self._database.threaded_transaction() as conn:
                drive(self._transaction(conn, work))
        except BaseException:
            self._rolled_back(work)
            raise
        self._committed(work)

    async def _postgres_pass(self, work: _Pass) -> None:
        try:
            async with self._database.transaction() as conn:
                await self._transaction(conn, work)
        except BaseException:
            self._rolled_back(work)
            raise
        self._committed(work)

    def _rolled_back(self, work: _Pass) -> None:
        """What the pass took out of the mirror or wrote is read again next time."""
        touched, held = work.touched, work.held
        self.mirror.refile(touched[0], touched[1])
        self.mirror.recheck(touched[0] | held[0], touched[1] | held[1])
        work.last = {}

    def _committed(self, work: _Pass) -> None:
        self.mirror.recheck(*work.held)
        for call, _, written in work.done:
            self.mirror.apply_agent(written)
            self.mirror.forget_call(call.id)

    async def _transaction(self, conn: AsyncConnection, work: _Pass) -> None:
        """The pass's transaction: the feed read, due wrap-ups ended, the reservations
        written, and this instance's offered calls read (to hand over once committed)."""
        mirror = self.mirror
        forgotten = self._forgotten
        while forgotten:
            mirror.recheck(calls=[forgotten.popleft()])
        await mirror.refresh(conn, work.now, work.unfit, work.window_open)
        woke = await self._finish_wrap_ups(conn, work)
        rounds = 0
        while True:
            pairs = match_all(
                mirror.routable,
                mirror.free,
                work.now,
                last_assigned=work.last,
                timed=work.decisions.append,
            )
            work.touched[0].update(a.id for _, a in pairs)
            work.touched[1].update(c.id for c, _ in pairs)
            if not pairs:
                break
            if self._database.postgres:  # lock the rows; SQLite's pass holds the write lock
                verdict = await self._rows_agree(conn, pairs, work.held)
                if verdict is not _Rows.AGREE:
                    # Rows gone are forgotten for good, so only other changes count.
                    rounds += verdict is _Rows.CHANGED
                    if rounds == _ROUNDS:
                        work.again = True  # still changing under us: again at once
                        break
                    continue
            if await self._write(conn, pairs, work):
                break
        if work.done or woke:  # the instances that own these calls must dial now
            await self._database.notify(conn)
        work.offered = await load_calls(conn, state="offered", instance=self._instance)

    async def _write(self, conn: AsyncConnection, pairs: Pairs, work: _Pass) -> bool:
        """Reserve the pairs in order, each a compare-and-set on the call, then the agent.
        False if a call is no longer waiting (its row was deleted by another writer): that
        call is forgotten and the pairs after it are put back, to be paired again."""
        now = work.now
        for n, (call, agent) in enumerate(pairs):
            if not await move_call(
                conn, call.id, "waiting", state="offered", reserved_agent=agent.id
            ):
                self.mirror.refile([a.id for _, a in pairs[n:]], [c.id for c, _ in pairs[n:]])
                self.mirror.forget_call(call.id)
                self.mirror.recheck(calls=[call.id])
                return False
            await log_queue(conn, call.id, call.queue, "offer", now, agent_id=agent.id)
            record = self.mirror.agents[agent.id]
            new, change = apply(
                record.status, AgentEvent.RESERVE, now, policy=self._policy, call_id=call.id
            )
            work.done.append((call, agent, await write_status(conn, record, new, change, call.id)))
            work.last[call.queue] = agent.id
        return True

    async def _finish_wrap_ups(self, conn: AsyncConnection, work: _Pass) -> bool:
        """End every wrap-up that is due, in the pass's transaction; True if any ended."""
        ended = False
        for agent_id in self.mirror.wrap_ups_due(work.now):
            work.touched[0].add(agent_id)
            with contextlib.suppress(TransitionError, StaleAgent):
                record, _ = await transition(
                    conn, agent_id, AgentEvent.WRAP_UP_EXPIRED, work.now, policy=self._policy
                )
                self.mirror.apply_agent(record)
                ended = True
        return ended

    async def _rows_agree(
        self, conn: AsyncConnection, pairs: Pairs, held: tuple[set[str], set[str]]
    ) -> _Rows:
        """Read (and on PostgreSQL lock) the rows of the chosen agents and calls: do they
        agree with the mirror? If not, the mirror is put right (rows taken as read, rows
        gone forgotten, rows another instance holds left out) for a new pairing."""
        postgres = self._database.postgres
        mirror = self.mirror
        agent_ids = [a.id for _, a in pairs]
        call_ids = [c.id for c, _ in pairs]
        # Calls first, agents only once every call is ours: two instances after the same
        # pair never end up with half of it each (and neither reserving).
        calls = {
            c.id: c for c in await load_calls(conn, state=None, ids=call_ids, skip_locked=postgres)
        }
        stale_calls = [i for i in call_ids if calls.get(i) != mirror.calls.get(i)]
        agents: dict[str, AgentRecord] = {}
        stale_agents: list[str] = []
        if not stale_calls:
            agents = {
                r.status.agent_id: r
                for r in await load_agents(conn, ids=agent_ids, skip_locked=postgres)
            }
            stale_agents = [i for i in agent_ids if agents.get(i) != mirror.agents.get(i)]
            if not stale_agents:
                return _Rows.AGREE
        mirror.refile(agent_ids, call_ids)
        missing_agents = [i for i in stale_agents if i not in agents]
        missing_calls = [i for i in stale_calls if i not in calls]
        # A row missing from a locking read is either gone or held by another instance.
        busy_agents = (
            await existing_agents(conn, missing_agents) if postgres and missing_agents else set()
        )
        busy_calls = (
            await existing_calls(conn, missing_calls) if postgres and missing_calls else set()
        )
        for agent_id in stale_agents:
            if agent_id in agents:
                mirror.apply_agent(agents[agent_id])
            elif agent_id in busy_agents:
                held[0].add(agent_id)
            else:
                mirror.forget_agent(agent_id)
        for call_id in stale_calls:
            if call_id in calls:
                mirror.apply_call(calls[call_id])
            elif call_id in busy_calls:
                held[1].add(call_id)
            else:
                mirror.forget_call(call_id)
        mirror.hold_out(held[0], held[1])
        gone = len(missing_agents) + len(missing_calls) - len(busy_agents) - len(busy_calls)
        changed = len(stale_agents) + len(stale_calls) > gone
        return _Rows.CHANGED if changed else _Rows.GONE

    async def _offered(self) -> list[CallRecord]:
        """This instance's offered calls (by whichever instance), to hand to their owners."""
        async with self._database.transaction() as conn:
            return await load_calls(conn, state="offered", instance=self._instance)
