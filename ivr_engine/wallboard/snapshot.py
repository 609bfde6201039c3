"""One picture of the contact centre for the wallboard: queues, agents and the IVR.

:func:`take_snapshot` reads it from the engine's database (the ACD's live tables, the
queue log and the call journal) on one connection, and adds the calls this engine is
serving now; :class:`WallboardData` owns a read-only database engine for it and returns
the snapshot as the dict that the page and ``GET /api/v1/wallboard`` get.

"Today" is the hotline's calendar day (``calendar.timezone``), from local midnight.
Service level follows the configured :class:`ServiceLevelDefinition`
(``reports.service_level``), and the snapshot carries its wording. Waits and times in
state are in seconds at the snapshot's moment ``at`` (epoch seconds); the page counts them
up until the next snapshot.

The figures:

- per queue: callers waiting now (ringing an agent included), of them ringing, callbacks
  owed, the longest current wait (from when the caller first queued, so an overflowed
  caller keeps its wait), calls answered and abandoned today (a callback counts as
  answered when its agent takes it), service level today, and the agents who can take
  the queue's calls (its base requirements; escalation widens that later) by state;
- every logged-in agent: state, pause reason, what is pending, time in state, the queue
  and caller of its current call, calls today;
- the IVR: callers in the menus now and on the hotline now (this engine), calls today,
  and the most frequent ways calls ended today: the journal's outcome and the last menu
  node the call was in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from datetime import time as clock_time
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.agents import AgentState
from acd.config import AcdConfig, QueueSettings
from acd.service_level import ServiceLevelDefinition
from acd.store.agent_rows import AgentRecord, load_agents
from acd.store.call_rows import CallRecord, load_calls
from acd.store.tables import QueueLogRow
from ground.database import make_engine
from ivr_engine.journal.tables import CallRow, StepRow
from ivr_engine.privacy import mask_number

__all__ = [
    "AgentLine",
    "ExitLine",
    "IvrFigures",
    "JournalDay",
    "LiveCalls",
    "QueueLine",
    "Snapshot",
    "Totals",
    "WallboardData",
    "day_start",
    "journal_day",
    "mask_number",
    "take_snapshot",
]

STATES = tuple(state.value for state in AgentState)
TOP_EXITS = 5


@dataclass(frozen=True)
class LiveCalls:
    """The hotline calls this engine serves now; ``with_acd`` of them are waiting for an
    agent, ringing one or talking to one."""

    on_hotline: int = 0
    with_acd: int = 0


@dataclass(frozen=True)
class QueueLine:
    name: str
    waiting: int
    ringing: int
    callbacks: int
    longest_wait_s: float | None
    answered: int
    abandoned: int
    short_abandoned: int
    service_level_pct: float | None
    agents: dict[str, int]  # state -> agents who can take the queue's calls


@dataclass(frozen=True)
class AgentLine:
    id: str
    name: str
    state: str
    pause_reason: str | None
    pending: str | None  # "log-out" or "pause <reason>" once the call work is over
    since: float
    in_state_s: float
    queue: str | None
    caller: str | None  # masked: 139****9000
    calls_today: int


@dataclass(frozen=True)
class ExitLine:
    outcome: str
    node: str | None  # the last menu node the call was in
    calls: int


@dataclass(frozen=True)
class JournalDay:
    """Today's calls from the journal."""

    calls: int = 0
    ended: int = 0
    top_exits: tuple[ExitLine, ...] = ()


@dataclass(frozen=True)
class IvrFigures:
    in_menus: int
    on_hotline: int
    calls_today: int
    ended_today: int
    top_exits: tuple[ExitLine, ...]


@dataclass(frozen=True)
class Totals:
    waiting: int
    longest_wait_s: float | None
    answered: int
    abandoned: int
    service_level_pct: float | None
    agents: dict[str, int]  # state -> every configured agent


@dataclass(frozen=True)
class Snapshot:
    at: float
    day: str  # the hotline's date, YYYY-MM-DD
    timezone: str
    service_level: dict[str, Any]
    totals: Totals
    queues: tuple[QueueLine, ...]
    agents: tuple[AgentLine, ...]
    ivr: IvrFigures
    acd_enabled: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def day_start(now: float, timezone: ZoneInfo) -> datetime:
    """Local midnight of the hotline's day that ``now`` (epoch seconds) falls in."""
    local = datetime.fromtimestamp(now, timezone)
    return datetime.combine(local.date(), clock_time(0), tzinfo=timezone)


# -- the queue log ---------------------------------------------------------------------------
@dataclass
class _Waits:
    """Today's answered and abandoned waits of a queue, as (representative wait, count)
    per class of the service-level definition (see :func:`_day_waits`)."""

    answered: list[tuple[float, int]] = field(default_factory=list)
    abandoned: list[tuple[float, int]] = field(default_factory=list)

    @staticmethod
    def _expand(classes: Iterable[tuple[float, int]]) -> Iterable[float]:
        for wait, count in classes:
            yield from repeat(wait, count)

    def answered_count(self) -> int:
        return sum(count for _, count in self.answered)

    def abandoned_count(self) -> int:
        return sum(count for _, count in self.abandoned)

    def short_count(self, definition: ServiceLevelDefinition) -> int:
        return sum(c for wait, c in self.abandoned if definition.is_short_abandon(wait))

    def service_level(self, definition: ServiceLevelDefinition) -> float | None:
        value = definition.compute(self._expand(self.answered), self._expand(self.abandoned))
        return None if value is None else round(value, 1)


async def _day_waits(
    conn: AsyncConnection, since: datetime, definition: ServiceLevelDefinition
) -> dict[str, _Waits]:
    """Queue -> today's answers and abandons, grouped in the database.

    Every wait is put in a class by the two comparisons the definition makes (answered
    within the threshold or not; abandoned short, before or after the threshold), and one
    wait per class stands for all of its calls: the definition gives the same figure for
    them as for the calls one by one, without reading a busy day's rows one by one.
    """
    wait = func.coalesce(QueueLogRow.wait_s, 0.0)
    threshold = definition.threshold_s
    band = case(
        (QueueLogRow.event == "answer", case((wait <= threshold, "within"), else_="late")),
        (wait < definition.short_abandon_s, "short"),
        (wait > threshold, "after"),
        else_="before",
    )
    lines = (
        select(
            QueueLogRow.queue.label("queue"),
            QueueLogRow.event.label("event"),
            band.label("band"),
            wait.label("wait"),
        )
        .where(QueueLogRow.at >= since, QueueLogRow.event.in_(("answer", "abandon")))
        .subquery()
    )
    query = select(
        lines.c.queue, lines.c.event, lines.c.band, func.min(lines.c.wait), func.count()
    ).group_by(lines.c.queue, lines.c.event, lines.c.band)
    found: dict[str, _Waits] = {}
    for queue, event, _band, least, count in await conn.execute(query):
        waits = found.setdefault(queue, _Waits())
        target = waits.answered if event == "answer" else waits.abandoned
        target.append((float(least), int(count)))
    return found


# -- agents and waiting calls --------------------------------------------------------------
def _qualifies(skills: dict[str, int], queue: QueueSettings) -> bool:
    return all(skills.get(r.skill, 0) >= r.min_level for r in queue.routing.requirements)


def _by_state(records: Iterable[AgentRecord]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for record in records:
        counts[record.status.state.value] += 1
    return counts


def _pending(record: AgentRecord) -> str | None:
    pending = record.status.pending
    if pending is None:
        return None
    if pending.kind.value == "pause":
        return f"pause {pending.reason}" if pending.reason else "pause"
    return pending.kind.value


async def _call_queues(conn: AsyncConnection, call_ids: list[str]) -> dict[str, str]:
    """The queue each of these calls was last in, from the queue log."""
    if not call_ids:
        return {}
    query = (
        select(QueueLogRow.call_id, QueueLogRow.queue)
        .where(QueueLogRow.call_id.in_(call_ids))
        .order_by(QueueLogRow.id)
    )
    return {call_id: queue for call_id, queue in await conn.execute(query)}


async def _agent_lines(
    conn: AsyncConnection,
    config: AcdConfig,
    records: list[AgentRecord],
    calls: list[CallRecord],
    now: float,
) -> list[AgentLine]:
    rows = {call.id: call for call in calls}
    working = [r for r in records if r.status.state.logged_in]
    # In wrap-up the call's row is gone; the queue log still knows its queue.
    gone = [r.status.current_call for r in working if r.status.current_call not in rows]
    logged = await _call_queues(conn, [call for call in gone if call])
    lines: list[AgentLine] = []
    for record in working:
        status = record.status
        agent = config.agents.get(status.agent_id)
        call = rows.get(status.current_call or "")
        queue = call.queue if call is not None else logged.get(status.current_call or "")
        lines.append(
            AgentLine(
                id=status.agent_id,
                name=agent.name if agent is not None else "",
                state=status.state.value,
                pause_reason=status.pause_reason,
                pending=_pending(record),
                since=status.since,
                in_state_s=round(max(0.0, now - status.since), 1),
                queue=queue,
                caller=mask_number(call.caller) if call is not None and call.caller else None,
                calls_today=status.calls_today,
            )
        )
    return lines


def _waiting_callers(calls: Iterable[CallRecord]) -> list[CallRecord]:
    return [c for c in calls if c.kind == "caller" and c.state in ("waiting", "offered")]


def _longest(calls: list[CallRecord], now: float) -> float | None:
    if not calls:
        return None
    return round(max(0.0, max(now - c.call.entered_at for c in calls)), 1)


def _queue_lines(
    config: AcdConfig,
    definition: ServiceLevelDefinition,
    records: list[AgentRecord],
    calls: list[CallRecord],
    waits: dict[str, _Waits],
    now: float,
) -> list[QueueLine]:
    names = list(config.queues)
    names += sorted({c.queue for c in calls} - set(names))  # a queue no longer configured
    lines: list[QueueLine] = []
    for name in names:
        settings = config.queues.get(name)
        pool = (
            [
                r
                for r in records
                if (agent := config.agents.get(r.status.agent_id)) is not None
                and _qualifies(agent.skills, settings)
            ]
            if settings is not None
            else []
        )
        mine = [c for c in calls if c.queue == name]
        waiting = _waiting_callers(mine)
        day = waits.get(name, _Waits())
        lines.append(
            QueueLine(
                name=name,
                waiting=len(waiting),
                ringing=sum(1 for c in waiting if c.state == "offered"),
                callbacks=sum(1 for c in mine if c.kind == "callback" and c.state == "waiting"),
                longest_wait_s=_longest(waiting, now),
                answered=day.answered_count(),
                abandoned=day.abandoned_count(),
                short_abandoned=day.short_count(definition),
                service_level_pct=day.service_level(definition),
                agents=_by_state(pool),
            )
        )
    return lines


# -- the journal -----------------------------------------------------------------------------
async def journal_day(conn: AsyncConnection, since: datetime, top: int = TOP_EXITS) -> JournalDay:
    """Calls started since ``since``, those of them that ended, and their ``top`` most
    frequent exits (outcome and last menu node)."""
    calls = (await conn.execute(select(func.count()).where(CallRow.started_at >= since))).one()
    last_node = (
        select(StepRow.detail)
        .where(StepRow.call_id == CallRow.call_id, StepRow.kind == "node")
        .order_by(StepRow.seq.desc())
        .limit(1)
        .correlate(CallRow)
        .scalar_subquery()
    )
    ended = (
        select(CallRow.outcome.label("outcome"), last_node.label("node"))
        .where(CallRow.started_at >= since, CallRow.ended_at.is_not(None))
        .subquery()
    )
    counted = func.count().label("calls")
    exits = (
        select(ended.c.outcome, ended.c.node, counted)
        .group_by(ended.c.outcome, ended.c.node)
        .order_by(counted.desc(), ended.c.outcome, ended.c.node)
    )
    lines: list[ExitLine] = []
    finished = 0
    for outcome, node, count in await conn.execute(exits):
        finished += int(count)
        if len(lines) < top:
            # A node step reads "cm-main (menu)": the node id, then its type.
            where = str(node).split(" ", 1)[0] if node else None
            lines.append(ExitLine(str(outcome or "unknown"), where, int(count)))
    return JournalDay(int(calls[0]), finished, tuple(lines))


# -- the whole picture -----------------------------------------------------------------------
async def take_snapshot(
    conn: AsyncConnection,
    *,
    config: AcdConfig | None,
    service_level: ServiceLevelDefinition,
    timezone: ZoneInfo,
    now: float,
    live: LiveCalls = LiveCalls(),
    journal: JournalDay | None = None,
) -> Snapshot:
    """The wallboard's figures at ``now`` (epoch seconds). ``config``: the running ACD's
    configuration (None: the ACD is off; no queues, no agents). ``journal``: today's
    journal figures if the caller has them already (they are read otherwise)."""
    since = day_start(now, timezone)
    queues: list[QueueLine] = []
    agents: list[AgentLine] = []
    every_agent = dict.fromkeys(STATES, 0)
    waits: dict[str, _Waits] = {}
    waiting: list[CallRecord] = []
    if config is not None:
        records = await load_agents(conn)
        calls = await load_calls(conn, state=None)
        waits = await _day_waits(conn, since, service_level)
        queues = _queue_lines(config, service_level, records, calls, waits, now)
        agents = await _agent_lines(conn, config, records, calls, now)
        every_agent = _by_state(records)
        waiting = _waiting_callers(calls)
    if journal is None:
        journal = await journal_day(conn, since)
    everything = _Waits(
        [c for w in waits.values() for c in w.answered],
        [c for w in waits.values() for c in w.abandoned],
    )
    totals = Totals(
        waiting=len(waiting),
        longest_wait_s=_longest(waiting, now),
        answered=everything.answered_count(),
        abandoned=everything.abandoned_count(),
        service_level_pct=everything.service_level(service_level),
        agents=every_agent,
    )
    ivr = IvrFigures(
        in_menus=max(0, live.on_hotline - live.with_acd),
        on_hotline=live.on_hotline,
        calls_today=journal.calls,
        ended_today=journal.ended,
        top_exits=journal.top_exits,
    )
    return Snapshot(
        at=now,
        day=since.date().isoformat(),
        timezone=timezone.key,
        service_level={
            "definition": service_level.describe(),
            "threshold_s": service_level.threshold_s,
            "short_abandon_s": service_level.short_abandon_s,
            "abandoned": service_level.abandoned,
        },
        totals=totals,
        queues=tuple(queues),
        agents=tuple(agents),
        ivr=ivr,
        acd_enabled=config is not None,
    )


class WallboardData:
    """Takes snapshots on a database engine of its own, read-only, so the wallboard never
    holds the write lock the ACD's transactions take on SQLite.

    Today's journal figures (a scan of the day's calls) are read at most every
    ``journal_every`` seconds and reused in between; the rest is read every time.
    """

    def __init__(
        self,
        url: str,
        *,
        config: AcdConfig | None,
        service_level: ServiceLevelDefinition,
        timezone: ZoneInfo,
        live: Callable[[], LiveCalls] = LiveCalls,
        clock: Callable[[], float] = time.time,
        journal_every: float = 5.0,
        timeout: float = 5.0,
    ) -> None:
        self.config = config
        self.service_level = service_level
        self.timezone = timezone
        self.live = live
        self.clock = clock
        self.journal_every = journal_every
        self._engine: AsyncEngine = make_engine(
            url, connect_timeout=timeout, command_timeout=timeout
        )
        self._journal: tuple[float, str, JournalDay] | None = None  # monotonic, day, figures
        self._lock = asyncio.Lock()

    async def take(self) -> dict[str, Any]:
        async with self._lock:  # the hub and the JSON route share one reader at a time
            now = self.clock()
            day = day_start(now, self.timezone).date().isoformat()
            cached = self._journal
            fresh = (
                cached is not None
                and cached[1] == day
                and time.monotonic() - cached[0] < self.journal_every
            )
            async with self._engine.connect() as conn:
                snapshot = await take_snapshot(
                    conn,
                    config=self.config,
                    service_level=self.service_level,
                    timezone=self.timezone,
                    now=now,
                    live=self.live(),
                    journal=cached[2] if fresh and cached is not None else None,
                )
            if not fresh:
                ivr = snapshot.ivr
                figures = JournalDay(ivr.calls_today, ivr.ended_today, ivr.top_exits)
                self._journal = (time.monotonic(), day, figures)
            return snapshot.as_dict()

    async def close(self) -> None:
        await self._engine.dispose()
