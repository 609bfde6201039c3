"""Shared pieces of the report tests: rows written straight into the journal and the ACD
logs, at chosen hotline times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.store.tables import AgentRow, AgentStateLogRow, QueueLogRow, QueueRow
from ivr_engine.journal.tables import CallRow, StepRow
from ivr_engine.settings import Settings

ZONE = ZoneInfo("Asia/Shanghai")


def sh(text: str) -> datetime:
    """'2025-06-16 10:00:00' in Shanghai time, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


def settings_at(now: str, **reports: Any) -> Settings:
    """Default settings, the clock fixed at ``now`` (Shanghai), ``reports`` overridden."""
    raw: dict[str, Any] = {"calendar": {"fixed_time": sh(now).isoformat()}}
    if reports:
        raw["reports"] = reports
    return Settings.model_validate(raw)


async def add_queue_log(engine: AsyncEngine, lines: Sequence[tuple[Any, ...]]) -> None:
    """(call, queue, event, at, agent, wait_s, talk_s, detail) lines, in this order."""
    rows = [
        {
            "call_id": call,
            "queue": queue,
            "event": event,
            "at": sh(at),
            "agent_id": agent,
            "wait_s": wait,
            "talk_s": talk,
            "detail": detail,
        }
        for call, queue, event, at, agent, wait, talk, detail in lines
    ]
    async with engine.begin() as conn:
        for row in rows:  # one by one: the ids keep the order of the lines
            await conn.execute(insert(QueueLogRow).values(**row))


async def add_state_log(engine: AsyncEngine, lines: Sequence[tuple[Any, ...]]) -> None:
    """(agent, from, to, event, at, reason, call) lines, in this order."""
    async with engine.begin() as conn:
        for agent, from_state, to_state, event, at, reason, call in lines:
            await conn.execute(
                insert(AgentStateLogRow).values(
                    agent_id=agent,
                    from_state=from_state,
                    to_state=to_state,
                    event=event,
                    at=sh(at),
                    reason=reason,
                    call_id=call,
                )
            )


async def add_agents(engine: AsyncEngine, agents: dict[str, str]) -> None:
    async with engine.begin() as conn:
        for agent_id, name in agents.items():
            await conn.execute(
                insert(AgentRow).values(
                    id=agent_id, name=name, state="logged-out", state_since=datetime.now(UTC)
                )
            )


async def add_queue(engine: AsyncEngine, name: str, threshold_s: float, target_pct: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(QueueRow).values(
                name=name,
                requirements={name: 1},
                strategy="longest-idle",
                match="closest-fit",
                sl_target_pct=target_pct,
                sl_threshold_s=threshold_s,
                escalation=[],
            )
        )


async def add_call(
    engine: AsyncEngine,
    call_id: str,
    *,
    caller: str,
    dialled: str,
    start: str,
    end: str | None,
    outcome: str | None,
    hangup: str | None = "engine",
    nodes: Sequence[str] = (),
    steps: Sequence[tuple[str, str]] = (),
) -> None:
    """A journal call; ``nodes`` ("cm-main (menu)") become node steps, then ``steps``
    ((kind, detail), a ``node`` kind among them for nodes after them), then the outcome."""
    started = sh(start)
    all_steps = [("node", node) for node in nodes] + list(steps)
    if outcome is not None:
        all_steps.append(("outcome", outcome))
    async with engine.begin() as conn:
        await conn.execute(
            insert(CallRow).values(
                call_id=call_id,
                caller=caller,
                dialled=dialled,
                channel=f"PJSIP/callers-{call_id}",
                unique_id=call_id,
                started_at=started,
                ended_at=None if end is None else sh(end),
                outcome=outcome,
                hangup_side=None if end is None else hangup,
                keys="",
                instance="test",
            )
        )
        for seq, (kind, detail) in enumerate(all_steps):
            await conn.execute(
                insert(StepRow).values(
                    call_id=call_id, seq=seq, at=started, kind=kind, detail=detail
                )
            )


# -- one ACD morning, 2025-06-16 (Shanghai) --------------------------------------------
# Queue log: (call, queue, event, at, agent, wait_s, talk_s, detail)
D = "2025-06-16 "
QUEUE_DAY: list[tuple[Any, ...]] = [
    # p0 entered the evening before, answered after midnight
    ("p0", "general", "enter", "2025-06-15 23:59:50", None, None, None, "priority=0"),
    ("p0", "general", "answer", D + "00:00:05", "8009", 15.0, None, ""),
    ("c1", "general", "enter", D + "10:00:00", None, None, None, "priority=0"),
    ("c1", "general", "offer", D + "10:00:05", "8001", None, None, ""),
    ("c1", "general", "answer", D + "10:00:10", "8001", 10.0, None, ""),
    ("c1", "general", "complete", D + "10:03:10", "8001", None, 180.0, ""),
    ("c2", "general", "enter", D + "10:05:00", None, None, None, "priority=0"),
    ("c2", "general", "ring-no-answer", D + "10:05:20", "8003", None, None, "NOANSWER"),
    ("c2", "general", "answer", D + "10:05:31", "8002", 31.0, None, ""),
    ("c2", "general", "complete", D + "10:07:30", "8002", None, 119.0, ""),
    ("c3", "general", "enter", D + "10:10:00", None, None, None, "priority=0"),
    ("c3", "general", "abandon", D + "10:10:03", None, 3.0, None, "caller hung up"),
    ("c4", "general", "enter", D + "10:14:59", None, None, None, "priority=0"),
    ("c4", "general", "abandon", D + "10:15:39", None, 40.0, None, "caller hung up"),
    ("c5", "general", "enter", D + "10:15:00", None, None, None, "priority=0"),
    ("c5", "general", "abandon", D + "10:15:15", None, 15.0, None, "caller hung up"),
    ("c6", "general", "enter", D + "10:16:00", None, None, None, "priority=0"),
    ("c6", "general", "answer", D + "10:16:05", "8001", 5.0, None, ""),
    ("c6", "general", "complete", D + "10:20:05", "8001", None, 240.0, ""),
    ("s1", "vip", "enter", D + "10:20:00", None, None, None, "priority=10"),
    ("s1", "vip", "overflow", D + "10:21:00", None, None, None, "to general"),
    ("s1", "general", "answer", D + "10:21:20", "8002", 80.0, None, ""),
    ("s1", "general", "complete", D + "10:22:20", "8002", None, 60.0, ""),
    ("k1", "general", "enter", D + "10:40:00", None, None, None, "priority=0"),
    ("k1", "general", "callback-offered", D + "10:45:00", None, None, None, "to 139"),
    ("k1", "general", "answer", D + "11:30:00", "8002", 3000.0, None, ""),
    ("k1", "general", "callback-made", D + "11:33:00", "8002", None, None, "answered"),
]

# Agent state log: (agent, from, to, event, at, reason, call)
STATES_DAY: list[tuple[Any, ...]] = [
    ("8002", "logged-out", "available", "log_in", "2025-06-15 22:00:00", None, None),
    ("8001", "logged-out", "available", "log_in", D + "09:00:00", None, None),
    ("8001", "available", "reserved", "reserve", D + "10:00:05", None, "c1"),
    ("8001", "reserved", "on-call", "answer", D + "10:00:10", None, "c1"),
    ("8001", "on-call", "wrap-up", "call_end", D + "10:03:10", None, "c1"),
    ("8001", "wrap-up", "available", "wrap_up_expired", D + "10:03:40", None, "c1"),
    ("8003", "logged-out", "available", "log_in", D + "10:05:00", None, None),
    ("8003", "available", "reserved", "reserve", D + "10:05:10", None, "c2"),
    ("8003", "reserved", "available", "ring_no_answer", D + "10:05:20", None, "c2"),
    ("8002", "available", "reserved", "reserve", D + "10:05:25", None, "c2"),
    ("8002", "reserved", "on-call", "answer", D + "10:05:31", None, "c2"),
    ("8003", "available", "logged-out", "log_out", D + "10:06:00", None, None),
    ("8002", "on-call", "available", "call_end", D + "10:07:30", None, "c2"),
    ("8001", "available", "paused", "pause", D + "10:10:00", "break", None),
    ("8001", "paused", "paused", "pause", D + "10:15:00", "lunch", None),
    ("8001", "paused", "available", "ready", D + "10:16:00", None, None),
    ("8001", "available", "reserved", "reserve", D + "10:16:02", None, "c6"),
    ("8001", "reserved", "on-call", "answer", D + "10:16:05", None, "c6"),
    ("8001", "on-call", "on-call", "log_out", D + "10:17:00", None, "c6"),  # noted only
    ("8001", "on-call", "wrap-up", "call_end", D + "10:20:05", None, "c6"),
    ("8001", "wrap-up", "logged-out", "wrap_up_expired", D + "10:20:35", None, "c6"),
    ("8002", "available", "reserved", "reserve", D + "10:21:15", None, "s1"),
    ("8002", "reserved", "on-call", "answer", D + "10:21:20", None, "s1"),
    ("8002", "on-call", "wrap-up", "call_end", D + "10:22:20", None, "s1"),
    ("8002", "wrap-up", "available", "ready", D + "10:22:31", None, "s1"),
    ("8002", "available", "reserved", "reserve", D + "11:29:55", None, "k1"),
    ("8002", "reserved", "on-call", "answer", D + "11:30:00", None, "k1"),
    ("8002", "on-call", "wrap-up", "call_end", D + "11:33:00", None, "k1"),
    ("8002", "wrap-up", "available", "wrap_up_expired", D + "11:33:20", None, "k1"),
    ("8002", "available", "paused", "supervisor_force_pause", D + "11:40:00", "supervisor", None),
]

AGENTS = {"8001": "Li Na", "8002": "Wang Wei", "8003": "Zhang Min", "8004": "Zhao Lei"}


async def add_acd_day(engine: AsyncEngine) -> None:
    await add_agents(engine, AGENTS)
    await add_queue_log(engine, QUEUE_DAY)
    await add_state_log(engine, STATES_DAY)


def row_of(rows: Sequence[dict[str, Any]], **match: Any) -> dict[str, Any]:
    """The one row whose columns have these values."""
    found = [row for row in rows if all(row.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} rows match {match}"
    return found[0]


# -- the journal around 2025-06-16 (Shanghai) -------------------------------------------
CM = ["cm-identify (lookup)"]


async def add_journal(engine: AsyncEngine) -> None:
    """Calls of the IVR tests; the comments of those tests count them by hand."""

    async def call(call_id: str, **kw: Any) -> None:
        await add_call(engine, call_id, **kw)

    # the 14th and 15th: history for repeats and the busy days
    await call(
        "a9",
        caller="13900000004",
        dialled="10001",
        start="2025-06-14 09:00:00",
        end="2025-06-14 09:01:00",
        outcome="self-service",
        nodes=["ss-identify (lookup)"],
    )
    await call(
        "a0",
        caller="13900000002",
        dialled="10086",
        start="2025-06-15 10:00:00",
        end="2025-06-15 10:00:50",
        outcome="self-service",
        nodes=CM,
    )
    for n, start in enumerate(["2025-06-15 18:00:00", "2025-06-15 18:05:00"], 1):
        await call(
            f"b{n}",
            caller="13900000009",
            dialled="10086",
            start=start,
            end=start[:-2] + "59",
            outcome="caller-hangup",
            hangup="caller",
            nodes=[*CM, "cm-main (menu)", "cm-seat-shared (queue)"],
            steps=[
                ("queue", "cm-seat-shared skills=general:1 priority=0"),
                ("acd", "enter general priority=0"),
            ],
        )
    # the 16th
    await call(
        "a1",
        caller="13900000001",
        dialled="10086",
        start=D + "09:00:00",
        end=D + "09:00:30",
        outcome="self-service",
        nodes=[
            *CM,
            "cm-vip-check (branch)",
            "cm-main (menu)",
            "cm-balance (query)",
            "cm-goodbye (hangup)",
        ],
    )
    await call(
        "a2",
        caller="13900000002",
        dialled="10086",
        start=D + "09:10:00",
        end=D + "09:10:41",
        outcome="caller-hangup",
        hangup="caller",
        nodes=[*CM, "cm-main (menu)", "cm-billing (menu)"],
    )
    await call(
        "a3",
        caller="13900000001",
        dialled="10086",
        start=D + "09:20:00",
        end=D + "09:25:00",
        outcome="agent",
        nodes=[
            *CM,
            "cm-main (menu)",
            "cm-billing (menu)",
            "cm-agent (branch)",
            "cm-seat-shared (queue)",
        ],
        steps=[
            ("queue", "cm-seat-shared skills=general:1 priority=0"),
            ("acd", "enter general priority=0"),
            ("acd", "talked 8001"),
            ("node", "cm-survey (survey)"),
            ("survey", "satisfied"),
            ("node", "cm-bye (hangup)"),
        ],
    )
    await call(
        "a4",
        caller="13900000003",
        dialled="10001",
        start=D + "09:30:00",
        end=D + "09:30:20",
        outcome="transferred:10000",
        nodes=["ss-identify (lookup)", "ss-menu (menu)", "ss-agent (transfer)"],
    )
    await call(
        "a5",
        caller="13900000003",
        dialled="10000",
        start=D + "09:30:21",
        end=D + "09:34:00",
        outcome="agent",
        nodes=["ct-welcome (play)", "ct-services (menu)", "ct-charges (queue)"],
        steps=[
            ("queue", "ct-charges skills=billing:1 priority=0"),
            ("acd", "enter billing priority=0"),
            ("acd", "overflow to general"),
            ("acd", "talked 8002"),
            ("node", "ct-survey (survey)"),
            ("survey", "dissatisfied"),
            ("node", "ct-goodbye (hangup)"),
        ],
    )
    await call(
        "a8",
        caller="13900000004",
        dialled="10001",
        start=D + "09:45:00",
        end=D + "09:46:00",
        outcome="self-service",
        nodes=["ss-identify (lookup)", "ss-menu (menu)", "ss-survey (survey)"],
        steps=[("survey", "no-answer"), ("node", "ss-goodbye (hangup)")],
    )
    await call(
        "a7",
        caller="13900000002",
        dialled="10086",
        start=D + "09:50:00",
        end=None,
        outcome=None,
        nodes=[*CM, "cm-main (menu)"],
    )
    await call(
        "a6",
        caller="",
        dialled="10086",
        start=D + "10:00:00",
        end=D + "10:00:05",
        outcome="error: RuntimeError",
        hangup="unknown",
    )
    # the 17th
    await call(
        "b3",
        caller="13900000005",
        dialled="10086",
        start="2025-06-17 11:00:00",
        end="2025-06-17 11:05:00",
        outcome="agent",
        nodes=[*CM, "cm-main (menu)", "cm-seat-vip (queue)"],
        steps=[
            ("queue", "cm-seat-vip skills=vip:1 priority=10"),
            ("acd", "enter vip priority=10"),
            ("acd", "talked 8001"),
            ("node", "cm-survey (survey)"),
            ("survey", "satisfied"),
        ],
    )
