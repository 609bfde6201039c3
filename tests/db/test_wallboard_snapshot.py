"""The wallboard's figures against a hand-built centre, on SQLite and PostgreSQL: agents,
calls and queue-log lines made through the ACD service with a clock the test sets, extra
queue-log lines and journal records written straight, then one snapshot read at T0.

T0 is 23:06:40 in Asia/Shanghai (15:06:40 UTC), so the hotline's day began at 16:00 UTC
the day before: a line at 00:30 local counts for today although its UTC date is yesterday,
and a line at 23:59 local yesterday does not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from acd.figures import day_start
from acd.service.acd import Acd
from acd.service_level import ServiceLevelDefinition
from acd.store.call_rows import log_queue
from acd.store.sync import sync_config
from ground.database import make_engine
from ivr_engine.journal.record import CallRecord, Step
from ivr_engine.journal.store import JournalStore
from ivr_engine.wallboard.data import WallboardData
from ivr_engine.wallboard.figures import LiveCalls, Snapshot
from ivr_engine.wallboard.snapshot import mask_number, take_snapshot
from tests.db.acd_support import CONFIG, T0, Clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_START = T0 - (23 * 3600 + 6 * 60 + 40)  # 00:00 local of T0's day
DEFINITION = ServiceLevelDefinition(threshold_s=20, short_abandon_s=5, abandoned="after-threshold")


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


async def build_centre(db_url: str) -> None:
    """Agents 8001-8005 of tests/db/acd_support.py, five calls and a day's history."""
    await sync_config(db_url, CONFIG)
    clock = Clock(T0 - 700)
    acd = Acd(db_url, CONFIG, "east", clock=clock)
    try:
        await acd.agent_event("8004", "log_in")
        clock.now = T0 - 690
        done = await acd.enqueue("done", "orders", caller="13800138000")
        await acd.dispatcher.run_pass()  # 8004, the only one logged in
        clock.now = T0 - 680
        assert await acd.answered("done", "8004") is not None  # waited 10 s

        clock.now = T0 - 600
        for agent in ("8001", "8002", "8003", "8005"):
            await acd.agent_event(agent, "log_in")
        clock.now = T0 - 500
        await acd.agent_event("8003", "pause", reason="lunch")

        clock.now = T0 - 300
        await acd.enqueue("talk", "general", caller="13900139000")
        await acd.dispatcher.run_pass()  # 8001 (8002 as idle, lower id wins)
        clock.now = T0 - 290
        assert await acd.answered("talk", "8001") is not None  # waited 10 s

        clock.now = T0 - 200
        owed = await acd.enqueue("owed", "spill", caller="13700137000")
        assert await acd.to_callback(owed, "13700137000")

        clock.now = T0 - 60
        await acd.enqueue("ring", "general", caller="15800158000")
        await acd.dispatcher.run_pass()  # 8002 rings
        clock.now = T0 - 45
        await acd.enqueue("wait", "billing", caller="13300133000")  # billing 3: nobody
        clock.now = T0 - 20
        await acd.enqueue("vip1", "vip", caller="13500135000")
        clock.now = T0 - 10
        await acd.finished(done, "8004")  # 8004 in wrap-up

        # The rest of the day in the general queue, and a line of yesterday.
        async with acd.transaction() as conn:
            for call, event, when, wait in [
                ("h1", "answer", T0 - 1000, 25.0),  # late
                ("h2", "abandon", T0 - 950, 3.0),  # short: left out of service level
                ("h3", "abandon", T0 - 900, 12.0),  # before the threshold
                ("h4", "abandon", T0 - 850, 40.0),  # after the threshold
                ("h5", "answer", DAY_START + 1800, 5.0),  # 00:30 local: today
                ("h6", "answer", DAY_START - 60, 1.0),  # 23:59 local yesterday
                ("h6", "abandon", DAY_START - 50, 50.0),
            ]:
                await log_queue(conn, call, "general", event, when, wait_s=wait)
    finally:
        await acd.stop()


def record(
    call_id: str,
    started: float,
    outcome: str | None,
    nodes: list[str],
) -> CallRecord:
    steps = [Step(at(started + n + 1), "node", node) for n, node in enumerate(nodes)]
    return CallRecord(
        call_id=call_id,
        caller="13900139000",
        dialled="10086",
        channel=f"PJSIP/callers-{call_id}",
        unique_id=call_id,
        started_at=at(started),
        ended_at=None if outcome is None else at(started + 30),
        outcome=outcome,
        hangup_side=None if outcome is None else "caller",
        steps=[Step(at(started), "menu-version", "v1"), *steps],
    )


JOURNAL = [
    record("j1", T0 - 3000, "agent", ["cm-welcome (play)", "cm-seat-shared (queue)"]),
    record("j2", T0 - 2900, "caller-hangup", ["cm-welcome (play)", "cm-main (menu)"]),
    record("j3", T0 - 2800, "caller-hangup", ["cm-main (menu)"]),
    record("j4", T0 - 2700, "completed", ["cm-main (menu)", "cm-balance (query)"]),
    record("j5", T0 - 2600, "no-route", []),
    record("j6", T0 - 100, None, ["cm-main (menu)"]),  # on the line now
    record("j7", DAY_START - 600, "caller-hangup", ["cm-main (menu)"]),  # yesterday
]


@pytest.fixture
async def centre(db_url: str) -> AsyncIterator[str]:
    await build_centre(db_url)
    store = await JournalStore.connect(db_url)
    try:
        for call in JOURNAL:
            await store.save(call)
    finally:
        await store.close()
    yield db_url


async def snapshot_of(
    url: str,
    definition: ServiceLevelDefinition = DEFINITION,
    *,
    with_acd: bool = True,
    timezone: ZoneInfo = SHANGHAI,
) -> Snapshot:
    engine = make_engine(url, connect_timeout=5, command_timeout=5)
    try:
        async with engine.connect() as conn:
            return await take_snapshot(
                conn,
                config=CONFIG if with_acd else None,
                service_level=definition,
                timezone=timezone,
                now=T0,
                live=LiveCalls(on_hotline=4, with_acd=3),
            )
    finally:
        await engine.dispose()


def test_the_day_starts_at_local_midnight() -> None:
    start = day_start(T0, SHANGHAI)
    assert start.isoformat() == "2025-06-15T00:00:00+08:00"
    assert start.timestamp() == DAY_START
    assert day_start(T0, ZoneInfo("UTC")).isoformat() == "2025-06-15T00:00:00+00:00"


async def test_queues_now_and_today(centre: str) -> None:
    snap = await snapshot_of(centre)
    queues = {q.name: q for q in snap.queues}
    assert list(queues) == list(CONFIG.queues)  # every configured queue, in the file's order
    general = queues["general"]
    # Waiting now: "ring" rings 8002; "talk" is with 8001 and no longer waits.
    assert (general.waiting, general.ringing, general.callbacks) == (1, 1, 0)
    assert general.longest_wait_s == 60.0
    # Today: talk (10 s), h1 (25 s), h5 (5 s, 00:30 local); h6 was yesterday.
    assert (general.answered, general.abandoned, general.short_abandoned) == (3, 3, 1)
    assert general.service_level_pct == 50.0  # 2 within 20 s / (3 answered + 1 after 20 s)
    assert general.agents == {
        "logged-out": 0,
        "available": 0,
        "reserved": 1,
        "on-call": 1,
        "wrap-up": 1,
        "paused": 1,
    }

    assert (queues["billing"].waiting, queues["billing"].longest_wait_s) == (1, 45.0)
    assert sum(queues["billing"].agents.values()) == 0  # nobody has billing 3
    assert (queues["vip"].waiting, queues["vip"].longest_wait_s) == (1, 20.0)
    assert (queues["spill"].waiting, queues["spill"].callbacks) == (0, 1)
    orders = queues["orders"]
    assert (orders.waiting, orders.longest_wait_s, orders.answered) == (0, None, 1)
    assert orders.service_level_pct == 100.0
    assert queues["billing"].service_level_pct is None  # no call counts: nothing to judge

    totals = snap.totals
    assert (totals.waiting, totals.longest_wait_s) == (3, 60.0)
    assert (totals.answered, totals.abandoned) == (4, 3)
    assert totals.service_level_pct == 60.0  # 3 within / (4 answered + 1 after 20 s)
    assert totals.agents == {
        "logged-out": 0,
        "available": 1,
        "reserved": 1,
        "on-call": 1,
        "wrap-up": 1,
        "paused": 1,
    }


@pytest.mark.parametrize(
    ("abandoned", "general", "total"),
    [
        ("after-threshold", 50.0, 60.0),
        ("all", 40.0, 50.0),  # 2 / (3 + 2 not short); 3 / (4 + 2)
        ("none", 66.7, 75.0),  # 2 / 3; 3 / 4
    ],
)
async def test_service_level_follows_the_definition(
    centre: str, abandoned: Any, general: float, total: float
) -> None:
    definition = ServiceLevelDefinition(threshold_s=20, short_abandon_s=5, abandoned=abandoned)
    snap = await snapshot_of(centre, definition)
    assert {q.name: q.service_level_pct for q in snap.queues}["general"] == general
    assert snap.totals.service_level_pct == total
    assert snap.service_level["definition"] == definition.describe()
    assert snap.service_level["abandoned"] == abandoned


async def test_a_stricter_threshold_changes_the_figure(centre: str) -> None:
    definition = ServiceLevelDefinition(threshold_s=8, short_abandon_s=5)
    snap = await snapshot_of(centre, definition)
    general = {q.name: q for q in snap.queues}["general"]
    # within 8 s: h5 only; counted abandons after 8 s: h3 (12) and h4 (40)
    assert general.service_level_pct == 20.0


async def test_the_day_is_the_hotlines_not_utc(centre: str) -> None:
    snap = await snapshot_of(centre, timezone=ZoneInfo("UTC"))
    general = {q.name: q for q in snap.queues}["general"]
    assert snap.day == "2025-06-15" and snap.timezone == "UTC"
    # From 00:00 UTC: h5 (16:30 UTC the day before) is not today any more.
    assert (general.answered, general.abandoned) == (2, 3)
    assert (await snapshot_of(centre)).day == "2025-06-15"


async def test_agents(centre: str) -> None:
    snap = await snapshot_of(centre)
    agents = {a.id: a for a in snap.agents}
    assert list(agents) == ["8001", "8002", "8003", "8004", "8005"]  # logged in, by id
    one, two, three, four, five = (agents[a] for a in ("8001", "8002", "8003", "8004", "8005"))
    assert (one.state, one.queue, one.caller, one.in_state_s) == (
        "on-call",
        "general",
        "139****9000",
        290.0,
    )
    assert one.name == "Agent 8001" and one.since == T0 - 290
    assert (two.state, two.queue, two.caller, two.in_state_s) == (
        "reserved",
        "general",
        "158****8000",
        60.0,
    )
    assert (three.state, three.pause_reason, three.in_state_s, three.queue) == (
        "paused",
        "lunch",
        500.0,
        None,
    )
    # In wrap-up the call's row is gone: its queue comes from the queue log.
    assert (four.state, four.queue, four.caller, four.in_state_s) == ("wrap-up", "orders", None, 10)
    assert four.calls_today == 1
    assert (five.state, five.in_state_s, five.pending) == ("available", 600.0, None)


async def test_a_pending_request_is_shown(db_url: str) -> None:
    await build_centre(db_url)
    acd = Acd(db_url, CONFIG, "east", clock=Clock(T0 - 5))
    try:
        await acd.agent_event("8001", "pause", reason="training")  # on a call: after it
        await acd.agent_event("8002", "log_out")
    finally:
        await acd.stop()
    agents = {a.id: a for a in (await snapshot_of(db_url)).agents}
    assert (agents["8001"].state, agents["8001"].pending) == ("on-call", "pause training")
    assert (agents["8002"].state, agents["8002"].pending) == ("reserved", "log-out")


async def test_the_ivr(centre: str) -> None:
    ivr = (await snapshot_of(centre)).ivr
    assert (ivr.on_hotline, ivr.in_menus) == (4, 1)  # 3 of the 4 are with the ACD
    assert (ivr.calls_today, ivr.ended_today) == (6, 5)  # j7 was yesterday; j6 goes on
    exits = [(e.outcome, e.node, e.calls) for e in ivr.top_exits]
    assert exits[0] == ("caller-hangup", "cm-main", 2)
    assert sorted(exits[1:]) == [
        ("agent", "cm-seat-shared", 1),
        ("completed", "cm-balance", 1),
        ("no-route", None, 1),
    ]


async def test_with_the_acd_off_only_the_ivr_is_shown(centre: str) -> None:
    snap = await snapshot_of(centre, with_acd=False)
    assert snap.queues == () and snap.agents == () and not snap.acd_enabled
    totals = snap.totals
    assert (totals.waiting, totals.answered, totals.service_level_pct) == (0, 0, None)
    assert snap.ivr.calls_today == 6


async def test_the_data_source_gives_the_snapshot_as_json_ready_dicts(centre: str) -> None:
    live = {"now": LiveCalls(on_hotline=2, with_acd=1)}
    data = WallboardData(
        centre,
        config=CONFIG,
        service_level=DEFINITION,
        timezone=SHANGHAI,
        live=lambda: live["now"],
        clock=lambda: T0,
        journal_every=3600,
    )
    try:
        first = await data.take()
        assert first["at"] == T0 and first["day"] == "2025-06-15"
        assert first["ivr"]["in_menus"] == 1 and first["ivr"]["calls_today"] == 6
        general = next(q for q in first["queues"] if q["name"] == "general")
        assert general["waiting"] == 1 and general["agents"]["on-call"] == 1
        assert first["agents"][0]["id"] == "8001"
        assert first["ivr"]["top_exits"][0] == {
            "outcome": "caller-hangup",
            "node": "cm-main",
            "calls": 2,
        }

        # A new call: the journal's figures are reused for journal_every seconds; the live
        # figures are read every time.
        store = await JournalStore.connect(centre)
        try:
            await store.save(record("j8", T0 - 50, "completed", ["cm-main (menu)"]))
        finally:
            await store.close()
        live["now"] = LiveCalls(on_hotline=3, with_acd=1)
        second = await data.take()
        assert second["ivr"]["calls_today"] == 6 and second["ivr"]["in_menus"] == 2
        data.journal_every = 0
        assert (await data.take())["ivr"]["calls_today"] == 7
    finally:
        await data.close()


def test_numbers_on_the_screen_are_masked() -> None:
    assert mask_number("13900139000") == "139****9000"
    assert mask_number("01012345678") == "010****5678"
    assert mask_number("95588") == "*5588"
    assert mask_number("8001") == "8001"


def test_local_day_of_a_moment_just_after_midnight() -> None:
    just_after = DAY_START + 1
    assert day_start(just_after, SHANGHAI).timestamp() == DAY_START
    assert day_start(DAY_START - 1, SHANGHAI) == day_start(T0, SHANGHAI) - timedelta(days=1)
