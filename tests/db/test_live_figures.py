"""One ACD state, read through the three places a supervisor sees it: the operations API
(``GET /queues``, ``GET /agents``), the wallboard's snapshot and the Prometheus exposition
of ``/metrics``. Each queue's figures must be the same in all three, today's answered,
abandoned and service level too (by the same settings: the service-level definition, the
queues' own thresholds, the hotline's day), and the service level today on the wallboard
must be the one the queues report gives for today.

The centre at T0 (agents 8001-8005 of tests/db/acd_support.py, the clock the test sets):

    agent  state                                         queue (skills)
    8001   on a call from g-talk                         general 1
    8002   reserved: a callback owed to an orders caller  general 1
    8003   paused (lunch)                                general 1
    8004   reserved: g-ring rings it                     general 1
    8005   wrap-up after b-done (billing, escalated)     billing 1

    call    queue    now                                 since
    g-ring  general  ringing 8004                        T0 - 60
    g-wait  general  waiting                             T0 - 30
    g-talk  general  talking to 8001 (answered in 10 s)  T0 - 890
    b-wait  billing  waiting (billing 3 asked: nobody)   T0 - 45
    o-cb    orders   callback owed, offered to 8002      T0 - 700
    s-cb    spill    callback owed, waiting (billing 5)  T0 - 200

Today also: b-done answered in 45 s, g-gone abandoned after 40 s, g-short after 3 s.
T0 is 23:06:40 in the hotline's time zone (Asia/Shanghai).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.agents import AgentState
from acd.config import AcdConfig, parse_config
from acd.service.acd import Acd
from acd.service_level import ServiceLevelDefinition
from acd.store.sync import sync_config
from ground.database import make_engine
from ivr_engine.metrics.engine import EngineMetrics
from ivr_engine.reports.registry import REPORTS
from ivr_engine.settings import Settings
from ivr_engine.wallboard.data import WallboardData
from tests.db.acd_support import CONFIG, RAW, T0, Clock
from tests.db.api_support import ApiHarness, api_harness
from tests.db.reports_support import ZONE, add_queue_log, settings_at
from tests.unit.metrics.support import Samples, scrape

STATES = [state.value for state in AgentState]
DEFINITION = ServiceLevelDefinition()  # the engine's default: 20 s, abandons after it


async def build_centre(acd: Acd, clock: Clock) -> None:
    clock.now = T0 - 900
    for agent in ("8001", "8002", "8003", "8004", "8005"):
        await acd.agent_event(agent, "log_in")
    await acd.agent_event("8003", "pause", reason="lunch")

    clock.now = T0 - 890
    await acd.enqueue("g-talk", "general", caller="13900139000")
    assert (await acd.dispatcher.run_pass()).reserved == [("g-talk", "8001")]
    clock.now = T0 - 880
    assert await acd.answered("g-talk", "8001") is not None

    clock.now = T0 - 850
    done = await acd.enqueue("b-done", "billing", caller="13300133000")
    clock.now = T0 - 810  # past billing's escalation step (30 s): billing 1 will do
    assert (await acd.dispatcher.run_pass()).reserved == [("b-done", "8005")]
    clock.now = T0 - 805
    assert await acd.answered("b-done", "8005") is not None

    clock.now = T0 - 700
    owed = await acd.enqueue("o-cb", "orders", caller="13700137000")
    assert await acd.to_callback(owed, "13700137000")
    assert (await acd.dispatcher.run_pass()).reserved == [("o-cb", "8002")]

    clock.now = T0 - 600
    gone = await acd.enqueue("g-gone", "general", caller="13600136000")
    clock.now = T0 - 560
    await acd.abandon(gone)
    clock.now = T0 - 500
    short = await acd.enqueue("g-short", "general", caller="13600136001")
    clock.now = T0 - 497
    await acd.abandon(short)

    clock.now = T0 - 200
    spill = await acd.enqueue("s-cb", "spill", caller="13500135000")
    assert await acd.to_callback(spill, "13500135000")

    clock.now = T0 - 60
    await acd.enqueue("g-ring", "general", caller="15800158000")
    assert (await acd.dispatcher.run_pass()).reserved == [("g-ring", "8004")]
    clock.now = T0 - 45
    await acd.enqueue("b-wait", "billing", caller="13300133001")
    clock.now = T0 - 30
    await acd.enqueue("g-wait", "general", caller="15800158001")
    clock.now = T0 - 10
    await acd.finished(done, "8005")  # the last change: no pass ends its wrap-up
    clock.now = T0


async def wallboard_of(url: str, config: AcdConfig, definition: ServiceLevelDefinition) -> Any:
    data = WallboardData(
        url, config=config, service_level=definition, timezone=ZONE, clock=lambda: T0
    )
    try:
        return await data.take()
    finally:
        await data.close()


async def metrics_of(acd: Acd, definition: ServiceLevelDefinition) -> Samples:
    """The exposition once the ACD's figures are read, today's in the hotline's time zone."""
    metrics = EngineMetrics(service_level=definition, timezone=ZONE)
    metrics.watch(acd=acd)
    assert metrics.acd is not None
    try:
        await metrics.acd.refresh()
    finally:
        await metrics.stop()
    return scrape(metrics)


def prometheus(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def ratio_today(samples: Samples, queue: str) -> float | None:
    """A queue's service level today in /metrics (None: left out, no call counts)."""
    return samples.get(("ivr_acd_service_level_today_ratio", frozenset({("queue", queue)})))


Day = tuple[float, float, float | None]  # answered, abandoned, service level in percent


def days(queues: list[Any], board: Any, samples: Samples) -> tuple[dict[str, Day], ...]:
    """Each queue's day so far through GET /queues, the wallboard and /metrics (its ratio
    in percent to a tenth, as the others show it)."""
    by_api = {
        q["name"]: (q["answered_today"], q["abandoned_today"], q["service_level_today_pct"])
        for q in queues
    }
    by_board = {
        q["name"]: (q["answered"], q["abandoned"], q["service_level_pct"]) for q in board["queues"]
    }
    by_metrics = {}
    for name in by_board:
        ratio = ratio_today(samples, name)
        by_metrics[name] = (
            prometheus(samples, "ivr_acd_calls_answered_today", queue=name),
            prometheus(samples, "ivr_acd_calls_abandoned_today", queue=name),
            None if ratio is None else round(100 * ratio, 1),
        )
    return by_api, by_board, by_metrics


def every_state(counts: Mapping[str, int]) -> dict[str, int]:
    return {state: counts.get(state, 0) for state in STATES}


async def test_the_api_the_wallboard_and_the_metrics_show_the_same_figures(db_url: str) -> None:
    clock = Clock()
    async with api_harness(db_url, clock) as api:
        await build_centre(api.acd, clock)
        queues, agents = await _from_the_api(api)
        board = await wallboard_of(db_url, CONFIG, DEFINITION)
        samples = await metrics_of(api.acd, DEFINITION)

    names = [q["name"] for q in board["queues"]]
    assert names == list(CONFIG.queues)
    assert [q["name"] for q in queues] == names
    shown_in_metrics = {
        dict(labels)["queue"] for name, labels in samples if name == "ivr_acd_calls_waiting"
    }
    assert shown_in_metrics == set(names)

    by_api = {
        q["name"]: {
            "waiting": q["waiting"],
            "ringing": q["offered"],
            "longest_wait_s": q["longest_wait_s"],  # 0 while nobody waits
            "agents": every_state(q["agents"]),  # states with nobody are left out
        }
        for q in queues
    }
    by_board = {
        q["name"]: {
            "waiting": q["waiting"],
            "ringing": q["ringing"],
            "longest_wait_s": q["longest_wait_s"] or 0.0,  # None (a dash) while nobody waits
            "agents": q["agents"],
        }
        for q in board["queues"]
    }
    assert by_api == by_board
    by_board_for_metrics = {
        q["name"]: (q["waiting"], q["longest_wait_s"] or 0.0, q["callbacks"])
        for q in board["queues"]
    }
    by_metrics = {
        name: (
            prometheus(samples, "ivr_acd_calls_waiting", queue=name),
            prometheus(samples, "ivr_acd_longest_wait_seconds", queue=name),
            prometheus(samples, "ivr_acd_callbacks_owed", queue=name),
        )
        for name in names
    }
    assert by_board_for_metrics == by_metrics

    every_agent = every_state(Counter(a["state"] for a in agents))
    assert board["totals"]["agents"] == every_agent
    assert {s: prometheus(samples, "ivr_acd_agents", state=s) for s in STATES} == every_agent

    # And the figures are the ones the centre's state gives.
    general = by_board["general"]
    assert (general["waiting"], general["ringing"], general["longest_wait_s"]) == (2, 1, 60.0)
    assert general["agents"] == every_state({"reserved": 2, "on-call": 1, "paused": 1})
    assert by_board["orders"]["agents"] == general["agents"]  # the same skill asked for
    assert by_board["billing"] == {
        "waiting": 1,
        "ringing": 0,
        "longest_wait_s": 45.0,
        "agents": every_state({}),  # billing 3 asked; 8005 only after the escalation step
    }
    assert [by_metrics[q][2] for q in ("general", "orders", "spill")] == [0, 1, 1]
    assert every_agent == every_state({"reserved": 2, "on-call": 1, "paused": 1, "wrap-up": 1})

    api_days, board_days, metrics_days = days(queues, board, samples)
    assert api_days == board_days
    assert metrics_days == board_days
    # general: g-talk within 20 s / (g-talk + g-gone); g-short is left out but abandoned
    assert (board_days["general"], board_days["billing"]) == ((1, 2, 50.0), (1, 0, 0.0))
    assert board_days["orders"] == (0, 0, None)  # a callback owed is not answered yet


async def _from_the_api(api: ApiHarness) -> tuple[list[Any], list[Any]]:
    status, queues = await api.call("GET", "/queues", "supervisor")
    assert status == 200
    status, agents = await api.call("GET", "/agents", "supervisor")
    assert status == 200
    return queues["queues"], agents["agents"]


# Billing is judged by 50 s of its own: b-done, answered in 45 s, is within it.
OWN_THRESHOLD: AcdConfig = parse_config(
    {
        **RAW,
        "queues": {
            **RAW["queues"],
            "billing": {**RAW["queues"]["billing"], "service_level": {"threshold_s": 50}},
        },
    },
    "<own threshold>",
)


async def test_the_service_level_today_is_the_queues_reports(db_url: str) -> None:
    await sync_config(db_url, OWN_THRESHOLD)
    clock = Clock()
    acd = Acd(db_url, OWN_THRESHOLD, "east", clock=clock)
    try:
        await build_centre(acd, clock)
    finally:
        await acd.stop()
    engine = make_engine(db_url, connect_timeout=5, command_timeout=10)
    try:
        for queue_thresholds in (False, True):
            definition = DEFINITION.model_copy(update={"queue_thresholds": queue_thresholds})
            board = await wallboard_of(db_url, OWN_THRESHOLD, definition)
            shown = {q["name"]: q["service_level_pct"] for q in board["queues"]}
            reported = await _reported(engine, definition)
            assert shown == {name: reported.get(name) for name in shown}
            # general: g-talk within 20 s / (g-talk + g-gone, abandoned after 20 s)
            assert (shown["general"], shown["billing"]) == (50.0, 100.0 if queue_thresholds else 0)
            # Together: each queue's calls judged by its own definition, then added up.
            total = 2 / 3 if queue_thresholds else 1 / 3
            assert board["totals"]["service_level_pct"] == round(100 * total, 1)
    finally:
        await engine.dispose()


async def _reported(engine: AsyncEngine, definition: ServiceLevelDefinition) -> dict[str, Any]:
    """Queue -> the queues report's service level for T0's day."""
    spec = REPORTS["queues"]
    params = spec.params.model_validate(
        {"start": "2025-06-15", "end": "2025-06-15", "interval": "day"}
    )
    settings = settings_at("2025-06-15 23:06:40", service_level=definition.model_dump())
    report = await spec.build(engine, params, settings)
    return {row["queue"]: row["service_level_pct"] for row in report.rows}


async def add_day_edges(db_url: str) -> None:
    """Two more lines in the queue log, about the hotline's midnight (Asia/Shanghai): an
    answer within 20 s early today (the day before in UTC) and an abandon late the day
    before (within the last 24 hours)."""
    engine = make_engine(db_url, connect_timeout=5, command_timeout=10)
    try:
        await add_queue_log(
            engine,
            [
                ("g-early", "general", "answer", "2025-06-15 04:00:00", "8002", 12.0, None, ""),
                ("b-late", "billing", "abandon", "2025-06-14 23:30:00", None, 60.0, None, ""),
            ],
        )
    finally:
        await engine.dispose()


@pytest.mark.parametrize("queue_thresholds", [False, True])
async def test_the_service_level_today_is_the_same_in_the_api_the_wallboard_and_the_metrics(
    db_url: str, queue_thresholds: bool
) -> None:
    definition = DEFINITION.model_copy(update={"queue_thresholds": queue_thresholds})
    settings = Settings.model_validate(
        {"calendar": {"timezone": ZONE.key}, "reports": {"service_level": definition.model_dump()}}
    )
    clock = Clock()
    async with api_harness(db_url, clock, settings, config=OWN_THRESHOLD) as api:
        await build_centre(api.acd, clock)
        await add_day_edges(db_url)
        queues, _agents = await _from_the_api(api)
        board = await wallboard_of(db_url, OWN_THRESHOLD, definition)
        samples = await metrics_of(api.acd, definition)

    api_days, board_days, metrics_days = days(queues, board, samples)
    assert api_days == board_days
    assert metrics_days == board_days
    billing = 1.0 if queue_thresholds else 0.0  # b-done, answered in 45 s; its own: 50 s
    assert board_days == {
        "general": (2, 2, 66.7),  # g-early and g-talk within 20 s / (them + g-gone)
        "orders": (0, 0, None),
        "vip": (0, 0, None),
        "billing": (1, 0, 100 * billing),  # b-late was yesterday's
        "spill": (0, 0, None),
    }
    ratios = {name: ratio_today(samples, name) for name in board_days}
    assert ratios == {
        "general": 2 / 3,
        "orders": None,
        "vip": None,
        "billing": billing,
        "spill": None,
    }
