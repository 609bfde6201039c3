"""The agents report against hand-computed figures, on SQLite and PostgreSQL.

The state log of ``reports_support`` (2025-06-16, Shanghai time; the clock at 12:00):

8001  09:00:00 logs in; 10:00:05 rings (c1), 10:00:10 talks, 10:03:10 wrap-up, 10:03:40
      available; 10:10 paused (break), 10:15 paused (lunch), 10:16 ready; 10:16:02 rings
      (c6), 10:16:05 talks (asks to log out at 10:17: noted), 10:20:05 wrap-up, 10:20:35
      logged out.
8002  logged in since 22:00 the day before; c2 rings 10:05:25, talks 10:05:31-10:07:30
      (no wrap-up); s1 rings 10:21:15, talks 10:21:20-10:22:20, wrap-up to 10:22:31; k1
      rings 11:29:55, talks 11:30:00-11:33:00, wrap-up to 11:33:20; 11:40 paused by a
      supervisor until now.
8003  10:05:00 logs in, 10:05:10-10:05:20 c2 rings out, 10:06:00 logs out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.database import make_engine
from ivr_engine.reports.agents import BASE_COLUMNS
from ivr_engine.reports.registry import REPORTS
from ivr_engine.reports.report import Report
from tests.db.reports_support import add_acd_day, row_of, settings_at

NOW = "2025-06-16 12:00:00"
PAUSES = ["pause_break_s", "pause_lunch_s", "pause_supervisor_s"]


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url, connect_timeout=5, command_timeout=10)
    await add_acd_day(engine)
    yield engine
    await engine.dispose()


async def agents(engine: AsyncEngine, query: dict[str, Any], now: str = NOW) -> Report:
    spec = REPORTS["agents"]
    return await spec.build(engine, spec.params.model_validate(query), settings_at(now))


async def test_the_day_until_now(engine: AsyncEngine) -> None:
    report = await agents(engine, {"start": "2025-06-16", "end": "2025-06-16"})
    assert report.columns == BASE_COLUMNS + PAUSES
    assert [r["agent"] for r in report.rows] == ["8001", "8002", "8003"]  # 8004 never in
    # 8001: available 3605 (09:00:00-10:00:05) + 380 (10:03:40-10:10) + 2 = 3987
    #       ringing 5 + 3 = 8; talk 180 + 240 = 420; wrap-up 30 + 30 = 60
    #       paused 300 break + 60 lunch; 2 calls; AHT (420 + 60) / 2 = 240
    #       occupancy 480 / (480 + 3987) = 10.7 %; logged in 09:00:00-10:20:35 = 4835
    assert row_of(report.rows, agent="8001") == {
        "agent": "8001",
        "name": "Li Na",
        "calls": 2,
        "talk_s": 420.0,
        "wrap_up_s": 60.0,
        "aht_s": 240.0,
        "available_s": 3987.0,
        "ringing_s": 8.0,
        "occupancy_pct": 10.7,
        "logged_in_s": 4835.0,
        "paused_s": 360.0,
        "pause_break_s": 300.0,
        "pause_lunch_s": 60.0,
        "pause_supervisor_s": 0.0,
    }
    # 8002 from midnight (logged in the day before) to now, 12:00 = 43200 s:
    #       available 36325 + 825 + 4044 + 400 = 41594; ringing 6 + 5 + 5 = 16
    #       talk 119 + 60 + 180 = 359; wrap-up 11 + 20 = 31; paused (supervisor) 1200
    #       3 calls; AHT (359 + 31) / 3 = 130; occupancy 390 / (390 + 41594) = 0.9 %
    second = row_of(report.rows, agent="8002")
    assert (second["calls"], second["talk_s"], second["wrap_up_s"], second["aht_s"]) == (
        3,
        359.0,
        31.0,
        130.0,
    )
    assert (second["available_s"], second["ringing_s"], second["occupancy_pct"]) == (
        41594.0,
        16.0,
        0.9,
    )
    assert (second["logged_in_s"], second["paused_s"], second["pause_supervisor_s"]) == (
        43200.0,
        1200.0,
        1200.0,
    )
    # 8003: 10 s available, 10 s ringing (rang out), 40 s available: no calls
    third = row_of(report.rows, agent="8003")
    assert (third["calls"], third["aht_s"], third["occupancy_pct"]) == (0, None, 0.0)
    assert (third["available_s"], third["ringing_s"], third["logged_in_s"]) == (50.0, 10.0, 60.0)


async def test_a_half_hour_window_clips_the_states_at_both_ends(engine: AsyncEngine) -> None:
    # 10:00-10:30 local (no offset: hotline time)
    report = await agents(engine, {"start": "2025-06-16T10:00", "end": "2025-06-16T10:30"})
    # 8001 was available since 09:00: counts from 10:00: 5 + 380 + 2 = 387 available
    #      occupancy 480 / (480 + 387) = 55.4 %; logged in 10:00:00-10:20:35 = 1235
    first = row_of(report.rows, agent="8001")
    assert (first["available_s"], first["occupancy_pct"], first["logged_in_s"]) == (
        387.0,
        55.4,
        1235.0,
    )
    assert first["calls"] == 2
    # 8002: available 325 + 825 + 449 = 1599; talk 119 + 60; wrap-up 11; AHT 190 / 2 = 95
    second = row_of(report.rows, agent="8002")
    assert (second["available_s"], second["talk_s"], second["aht_s"]) == (1599.0, 179.0, 95.0)
    assert second["logged_in_s"] == 1800.0
    assert second["occupancy_pct"] == 10.6  # 190 / (190 + 1599)
    assert "pause_supervisor_s" not in report.columns  # 8002 paused only at 11:40


async def test_a_state_still_going_on_counts_until_now(engine: AsyncEngine) -> None:
    earlier = await agents(engine, {"start": "2025-06-16", "end": "2025-06-16"}, "2025-06-16 11:50")
    assert row_of(earlier.rows, agent="8002")["pause_supervisor_s"] == 600.0  # 11:40-11:50


async def test_one_agent_and_an_agent_who_never_logged_in(engine: AsyncEngine) -> None:
    one = await agents(engine, {"start": "2025-06-16", "end": "2025-06-16", "agent": "8003"})
    assert [r["agent"] for r in one.rows] == ["8003"]
    assert one.columns == BASE_COLUMNS  # no pause in 8003's day
    idle = await agents(engine, {"start": "2025-06-16", "end": "2025-06-16", "agent": "8004"})
    assert row_of(idle.rows, agent="8004")["logged_in_s"] == 0.0
    assert row_of(idle.rows, agent="8004")["name"] == "Zhao Lei"


async def test_a_day_without_any_change(engine: AsyncEngine) -> None:
    # the 17th: no line at all; 8002 stays paused (supervisor) from the 16th all day
    report = await agents(engine, {"start": "2025-06-17", "end": "2025-06-17"}, "2025-06-18 08:00")
    assert [r["agent"] for r in report.rows] == ["8002"]
    assert row_of(report.rows, agent="8002")["pause_supervisor_s"] == 86400.0
