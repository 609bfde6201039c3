"""The IVR reports (containment, funnel, repeat callers), the busy-day fluctuation and the
survey results, against hand-computed figures, on SQLite and PostgreSQL.

The journal of ``reports_support.add_journal`` (Shanghai time):

    call  day/start     line   caller  how it ended                         length
    a9    14th 09:00    10001  ...04   self-service                          60
    a0    15th 10:00    10086  ...02   self-service                          50
    b1    15th 18:00    10086  ...09   asked for an agent (queue), hung up
    b2    15th 18:05    10086  ...09   asked for an agent again (a redial)
    a1    16th 09:00:00 10086  ...01   self-service (contained)              30
    a2    16th 09:10:00 10086  ...02   hung up at cm-billing (contained)     41
    a3    16th 09:20:00 10086  ...01   agent from cm-billing, survey satisfied (general)
    a4    16th 09:30:00 10001  ...03   transferred to 10000
    a5    16th 09:30:21 10000  ...03   the transfer's call: agent from ct-services; queue
                                       billing overflowed to general; survey dissatisfied
    a8    16th 09:45:00 10001  ...04   self-service, survey not answered      60
    a7    16th 09:50:00 10086  ...02   still in progress
    a6    16th 10:00:00 10086  none    engine fault (failed)
    b3    17th 11:00    10086  ...05   agent (vip), survey satisfied
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.database import make_engine
from ivr_engine.reports.fluctuation import coefficient
from ivr_engine.reports.registry import REPORTS
from ivr_engine.reports.report import Report
from tests.db.reports_support import add_journal, row_of, settings_at

NOW = "2025-06-18 12:00:00"
DAY = {"start": "2025-06-16", "end": "2025-06-16"}


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url, connect_timeout=5, command_timeout=10)
    await add_journal(engine)
    yield engine
    await engine.dispose()


async def report(engine: AsyncEngine, name: str, query: dict[str, Any], **reports: Any) -> Report:
    spec = REPORTS[name]
    return await spec.build(engine, spec.params.model_validate(query), settings_at(NOW, **reports))


# -- containment --------------------------------------------------------------------------
async def test_containment_of_a_day_per_line(engine: AsyncEngine) -> None:
    ivr = await report(engine, "ivr", DAY)
    assert [r["line"] for r in ivr.rows] == ["all", "10000", "10001", "10086"]
    # finished calls of the 16th: a1 a2 a3 a4 a5 a8 a6 = 7 (a7 is still in progress)
    # contained: a1 (30 s), a2 (41 s, hung up), a8 (60 s) = 3 -> 42.9 %, (30+41+60)/3 = 43.7 s
    assert row_of(ivr.rows, line="all") == {
        "interval": "2025-06-16",
        "line": "all",
        "calls": 7,
        "contained": 3,
        "containment_pct": 42.9,
        "avg_contained_s": 43.7,
        "hung_up_in_ivr": 1,
        "asked_for_agent": 2,  # a3, a5
        "transferred": 1,  # a4
        "failed": 1,  # a6
    }
    # 10086: a1 a2 a3 a6: contained a1 a2 = 50 %, (30 + 41) / 2 = 35.5 s
    line = row_of(ivr.rows, line="10086")
    assert (line["calls"], line["contained"], line["containment_pct"]) == (4, 2, 50.0)
    assert line["avg_contained_s"] == 35.5
    agent_line = row_of(ivr.rows, line="10000")  # a5 only, which asked for an agent
    assert (agent_line["containment_pct"], agent_line["avg_contained_s"]) == (0.0, None)
    assert "Left out: 1 call still in progress (no end recorded)." in ivr.notes


async def test_containment_per_hour_and_a_day_without_calls(engine: AsyncEngine) -> None:
    hours = await report(engine, "ivr", DAY | {"interval": 60})
    nine = row_of(hours.rows, interval="2025-06-16T09:00+08:00", line="all")
    assert (nine["calls"], nine["contained"], nine["containment_pct"]) == (6, 3, 50.0)
    ten = row_of(hours.rows, interval="2025-06-16T10:00+08:00", line="all")
    assert (ten["calls"], ten["failed"], ten["containment_pct"]) == (1, 1, 0.0)
    empty = row_of(hours.rows, interval="2025-06-16T03:00+08:00", line="all")
    assert (empty["calls"], empty["containment_pct"], empty["avg_contained_s"]) == (0, None, None)
    later = await report(engine, "ivr", {"start": "2025-06-18", "end": "2025-06-18"})
    assert later.rows == [
        {
            "interval": "2025-06-18",
            "line": "all",
            "calls": 0,
            "contained": 0,
            "containment_pct": None,
            "avg_contained_s": None,
            "hung_up_in_ivr": 0,
            "asked_for_agent": 0,
            "transferred": 0,
            "failed": 0,
        }
    ]


# -- funnel -------------------------------------------------------------------------------
async def test_the_funnel_per_node(engine: AsyncEngine) -> None:
    funnel = await report(engine, "funnel", DAY)
    order = [r["node"] for r in funnel.rows]
    # shallowest first, then the busiest
    assert order[:8] == [
        "cm-identify",  # depth 0, 3 calls (a1 a2 a3)
        "ss-identify",  # depth 0, 2 calls (a4 a8)
        "ct-welcome",  # depth 0, 1 call
        "cm-main",  # depth 1, 3 calls
        "ss-menu",  # depth 1, 2 calls
        "cm-vip-check",  # depth 1, 1 call
        "ct-services",  # depth 1, 1 call
        "cm-billing",  # depth 2, 2 calls
    ]
    # cm-main: a1 walked 2 nodes before it, a2 and a3 one: depth 1, average 4 / 3 = 1.3
    assert row_of(funnel.rows, node="cm-main") == {
        "node": "cm-main",
        "type": "menu",
        "depth": 1,
        "avg_depth": 1.3,
        "reached": 3,
        "asked_for_agent": 0,
        "agent_pct": 0.0,
        "hung_up": 0,
        "hung_up_pct": 0.0,
    }
    # cm-billing: a2 hung up there; a3 went on to an agent from it (the last menu before
    # its queue node)
    billing = row_of(funnel.rows, node="cm-billing")
    assert (billing["reached"], billing["asked_for_agent"], billing["hung_up"]) == (2, 1, 1)
    assert (billing["agent_pct"], billing["hung_up_pct"], billing["depth"]) == (50.0, 50.0, 2)
    services = row_of(funnel.rows, node="ct-services")  # a5 asked for an agent there
    assert (services["reached"], services["asked_for_agent"]) == (1, 1)
    assert row_of(funnel.rows, node="cm-bye")["depth"] == 6
    assert sum(r["asked_for_agent"] for r in funnel.rows) == 2  # a3, a5
    assert sum(r["hung_up"] for r in funnel.rows) == 1  # a2 (a6 has no node; a7 goes on)
    assert funnel.notes[0].endswith("7 finished calls that started in it.")


# -- repeat callers -----------------------------------------------------------------------
async def test_repeat_callers_within_a_day(engine: AsyncEngine) -> None:
    repeats = await report(engine, "repeat-callers", DAY)
    # ...02: a0 on the 15th 10:00, a2 23 h 10 min later (repeat), a7 40 min after a2
    # (repeat); ...01: a1, then a3 20 min later (repeat); ...03: a5 only continues the
    # transfer of a4; ...04: a9 more than 24 h before a8
    assert repeats.rows == [
        {
            "caller": "13900000002",
            "calls": 2,
            "repeats": 2,
            "first_call": "2025-06-16T09:10:00+08:00",
            "last_call": "2025-06-16T09:50:00+08:00",
            "shortest_gap_min": 40.0,
            "lines": "10086",
            "asked_for_agent": 0,
        },
        {
            "caller": "13900000001",
            "calls": 2,
            "repeats": 1,
            "first_call": "2025-06-16T09:00:00+08:00",
            "last_call": "2025-06-16T09:20:00+08:00",
            "shortest_gap_min": 20.0,
            "lines": "10086",
            "asked_for_agent": 1,
        },
    ]
    # 8 calls started on the 16th (a7 too), 7 with a number; 3 repeats = 42.9 %
    assert (
        "8 calls, 3 of them repeats (42.9 % of the 7 calls with a number);"
        " 2 of 4 callers called again within the window." in repeats.notes
    )
    assert "Left out: 1 call without a calling number." in repeats.notes


async def test_a_shorter_repeat_window(engine: AsyncEngine) -> None:
    repeats = await report(engine, "repeat-callers", DAY, repeat_window_h=1)
    # a2 is no repeat any more (a0 was 23 h before); a7 and a3 still are
    assert [(r["caller"], r["repeats"]) for r in repeats.rows] == [
        ("13900000001", 1),
        ("13900000002", 1),
    ]
    top = await report(engine, "repeat-callers", DAY | {"top": 1})
    assert len(top.rows) == 1
    assert repeats.to_png() is None


# -- busy-day fluctuation -----------------------------------------------------------------
async def test_the_busy_day_fluctuation_coefficient(engine: AsyncEngine) -> None:
    busy = await report(engine, "fluctuation", {"start": "2025-06-14", "end": "2025-06-17"})
    # attempts (calls that reached a queue node): 14th none; 15th b1 b2 (one caller
    # redialling); 16th a3 a5; 17th b3. Average 5 / 4 = 1.25; busiest 2 / 1.25 = 1.6
    assert busy.rows == [
        {"day": "2025-06-14", "attempts": 0, "callers": 0, "attempts_per_caller": None,
         "vs_average": 0.0},
        {"day": "2025-06-15", "attempts": 2, "callers": 1, "attempts_per_caller": 2.0,
         "vs_average": 1.6},
        {"day": "2025-06-16", "attempts": 2, "callers": 2, "attempts_per_caller": 1.0,
         "vs_average": 1.6},
        {"day": "2025-06-17", "attempts": 1, "callers": 1, "attempts_per_caller": 1.0,
         "vs_average": 0.8},
    ]  # fmt: skip
    assert busy.notes[0] == (
        "Busy-day fluctuation coefficient: 1.60 (busiest day 2025-06-15: 2 attempts; daily"
        " average 1.25); target below 1.5: not below."
    )
    assert coefficient(busy) == 1.6
    png = busy.to_png()
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_fluctuation_defaults_to_thirty_days_and_survives_no_calls(
    engine: AsyncEngine,
) -> None:
    month = await report(engine, "fluctuation", {"end": "2025-06-17"})
    assert len(month.rows) == 30
    assert (month.rows[0]["day"], month.rows[-1]["day"]) == ("2025-05-19", "2025-06-17")
    # 5 attempts over 30 days: average 1/6, busiest 2: 12.0
    assert month.notes[0].startswith("Busy-day fluctuation coefficient: 12.00")
    quiet = await report(engine, "fluctuation", {"start": "2025-06-01", "end": "2025-06-02"})
    assert [r["vs_average"] for r in quiet.rows] == [None, None]
    assert quiet.notes[0] == "Busy-day fluctuation coefficient: none (no attempts in the period)."


# -- surveys ------------------------------------------------------------------------------
async def test_survey_answers_per_day_and_queue(engine: AsyncEngine) -> None:
    survey = await report(engine, "survey", {"start": "2025-06-16", "end": "2025-06-17"})
    assert survey.columns == [
        "day",
        "queue",
        "surveys",
        "answered_pct",
        "dissatisfied",
        "satisfied",
        "no-answer",
    ]
    # 16th: a3 satisfied (general), a5 dissatisfied (billing, overflowed to general),
    # a8 not answered (self-service: no queue); 17th: b3 satisfied (vip)
    assert survey.rows == [
        {"day": "2025-06-16", "queue": "general", "surveys": 2, "answered_pct": 100.0,
         "dissatisfied": 1, "satisfied": 1, "no-answer": 0},
        {"day": "2025-06-16", "queue": None, "surveys": 1, "answered_pct": 0.0,
         "dissatisfied": 0, "satisfied": 0, "no-answer": 1},
        {"day": "2025-06-17", "queue": "vip", "surveys": 1, "answered_pct": 100.0,
         "dissatisfied": 0, "satisfied": 1, "no-answer": 0},
    ]  # fmt: skip
    vip = await report(
        engine, "survey", {"start": "2025-06-16", "end": "2025-06-17", "queue": "vip"}
    )
    assert [(r["day"], r["queue"], r["satisfied"]) for r in vip.rows] == [("2025-06-17", "vip", 1)]
    assert vip.columns[4:] == ["satisfied", "no-answer"]
    csv_lines = survey.to_csv().splitlines()
    assert csv_lines[2] == "2025-06-16,,1,0.0,0,0,1"
    png = survey.to_png()
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_charts_of_the_ivr_reports(engine: AsyncEngine) -> None:
    for name in ("ivr", "funnel"):
        png = (await report(engine, name, DAY)).to_png()
        assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")
