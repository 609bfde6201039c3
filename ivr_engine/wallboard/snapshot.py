"""One picture of the contact centre for the wallboard: queues, agents and the IVR.

:func:`take_snapshot` reads it on one connection: the ACD's live tables and the queue log
for the queues and the agents, whose figures are the ACD's own (:mod:`acd.figures`: the
same as ``GET /queues`` and ``/metrics`` show), and the call journal for the IVR; it adds
the calls this engine is serving now. The totals are the queues' figures for the whole
centre: every caller waiting, the longest of their waits, today's calls of every queue.

Besides, the wallboard shows:

- every logged-in agent: state, pause reason, what is pending, time in state, the queue
  and caller of its current call, calls today;
- the IVR: callers in the menus now and on the hotline now (this engine), calls today,
  and the most frequent ways calls ended today: the journal's outcome and the last menu
  node the call was in.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from acd.config import AcdConfig
from acd.figures import (
    QueueDay,
    QueueNow,
    Today,
    agents_by_state,
    day_start,
    longest_wait_s,
    queues_now,
    read_today,
)
from acd.service_level import ServiceLevelDefinition
from acd.store.agent_rows import AgentRecord, load_agents
from acd.store.call_rows import CallRecord, load_calls
from ivr_engine.privacy import mask_number
from ivr_engine.wallboard.figures import (
    AgentLine,
    IvrFigures,
    JournalDay,
    LiveCalls,
    QueueLine,
    Snapshot,
    Totals,
)
from ivr_engine.wallboard.reads import call_queues, journal_day

__all__ = ["mask_number", "take_snapshot"]

NO_CALLS = LiveCalls()


async def take_snapshot(
    conn: AsyncConnection,
    *,
    config: AcdConfig | None,
    service_level: ServiceLevelDefinition,
    timezone: ZoneInfo,
    now: float,
    live: LiveCalls = NO_CALLS,
    journal: JournalDay | None = None,
) -> Snapshot:
    """The wallboard's figures at ``now`` (epoch seconds). ``config``: the running ACD's
    configuration (None: the ACD is off; no queues, no agents). ``journal``: today's
    journal figures if the caller has them already (they are read otherwise)."""
    since = day_start(now, timezone)
    queues: tuple[QueueNow, ...] = ()
    agents: list[AgentLine] = []
    records: list[AgentRecord] = []
    today = Today()
    if config is not None:
        records = await load_agents(conn)
        calls = await load_calls(conn, state=None)
        today = await read_today(conn, since, service_level, config)
        queues = queues_now(config, records, calls)
        agents = await _agent_lines(conn, config, records, calls, now)
    if journal is None:
        journal = await journal_day(conn, since)
    everything = today.total
    waiting_since = [q.waiting_since for q in queues if q.waiting_since is not None]
    totals = Totals(
        waiting=sum(q.waiting for q in queues),
        longest_wait_s=longest_wait_s(min(waiting_since, default=None), now),
        answered=everything.answered,
        abandoned=everything.abandoned,
        service_level_pct=everything.service_level_pct,
        agents=agents_by_state(records),
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
        queues=tuple(_queue_line(queue, today.of(queue.name), now) for queue in queues),
        agents=tuple(agents),
        ivr=ivr,
        acd_enabled=config is not None,
    )


def _queue_line(queue: QueueNow, day: QueueDay, now: float) -> QueueLine:
    return QueueLine(
        name=queue.name,
        waiting=queue.waiting,
        ringing=queue.ringing,
        callbacks=queue.callbacks,
        longest_wait_s=queue.longest_wait_s(now),
        answered=day.answered,
        abandoned=day.abandoned,
        short_abandoned=day.short_abandoned,
        service_level_pct=day.service_level_pct,
        agents=queue.agents,
    )


def _pending(record: AgentRecord) -> str | None:
    pending = record.status.pending
    if pending is None:
        return None
    if pending.kind.value == "pause":
        return f"pause {pending.reason}" if pending.reason else "pause"
    return pending.kind.value


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
    logged = await call_queues(conn, [call for call in gone if call])
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
