"""The queues report against hand-computed figures, on SQLite and PostgreSQL.

The ACD morning of ``reports_support`` (2025-06-16, Shanghai time), queue general:

    call  entered   outcome                       wait  talk  wrap-up
    c1    10:00:00  answered by 8001              10    180   30
    c2    10:05:00  rang 8003 out, 8002 answered  31    119   0
    c3    10:10:00  abandoned (short)             3
    c4    10:14:59  abandoned                     40
    c5    10:15:00  abandoned                     15
    c6    10:16:00  answered by 8001              5     240   30
    s1    10:21:00  overflowed in from vip (entered vip 10:20:00), answered by 8002
                                                  80    60    11
    k1    10:40:00  took a callback at 10:45 (called back 11:30: not an answer)
    p0    2025-06-15 23:59:50, answered 00:00:05  15

Service level by default: answered within 20 s / (answered + abandoned after 20 s),
abandons under 5 s left out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.database import make_engine
from ivr_engine.reports.queues import COLUMNS
from ivr_engine.reports.registry import REPORTS
from ivr_engine.reports.report import Report
from tests.db.reports_support import add_acd_day, add_queue, row_of, settings_at

NOW = "2025-06-16 12:00:00"


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url, connect_timeout=5, command_timeout=10)
    await add_acd_day(engine)
    yield engine
    await engine.dispose()


async def queues(engine: AsyncEngine, query: dict[str, Any], **reports: Any) -> Report:
    spec = REPORTS["queues"]
    return await spec.build(engine, spec.params.model_validate(query), settings_at(NOW, **reports))


def at(report: Report, interval: str, queue: str = "general") -> dict[str, Any]:
    return row_of(report.rows, interval=interval, queue=queue)


QUARTER = {"start": "2025-06-16", "end": "2025-06-16", "interval": 15}


async def test_a_quarter_hour_from_its_start_to_just_before_the_next(engine: AsyncEngine) -> None:
    report = await queues(engine, QUARTER)
    # 10:00-10:15: c1, c2, c3 and c4 (entered 10:14:59)
    # offered 4; answered c1 (10 s), c2 (31 s); abandoned c4 (40 s); c3 (3 s) is short
    # abandon % = 1 / (4 - 1) = 33.3
    # SL = within 20 s: c1 = 1 / (2 answered + 1 abandoned after 20 s) = 33.3
    # ASA = (10 + 31) / 2 = 20.5; AHT = ((180 + 30) + (119 + 0)) / 2 = 164.5
    # longest wait: c4, 40 s
    assert at(report, "2025-06-16T10:00+08:00") == {
        "interval": "2025-06-16T10:00+08:00",
        "queue": "general",
        "offered": 4,
        "answered": 2,
        "abandoned": 1,
        "short_abandoned": 1,
        "overflowed": 0,
        "callbacks": 0,
        "abandon_pct": 33.3,
        "service_level_pct": 33.3,
        "sl_target_pct": None,
        "asa_s": 20.5,
        "aht_s": 164.5,
        "longest_wait_s": 40.0,
    }
    # 10:15-10:30: c5 (entered 10:15:00 exactly), c6, s1 (overflowed in at 10:21)
    # offered 3; answered c6 (5 s), s1 (80 s); abandoned c5 (15 s, not short)
    # SL = within 20 s: c6 = 1 / (2 answered + 0 abandoned after 20 s) = 50.0
    # ASA = (5 + 80) / 2 = 42.5; AHT = ((240 + 30) + (60 + 11)) / 2 = 170.5
    quarter = at(report, "2025-06-16T10:15+08:00")
    assert (quarter["offered"], quarter["answered"], quarter["abandoned"]) == (3, 2, 1)
    assert quarter["short_abandoned"] == 0
    assert quarter["abandon_pct"] == 33.3
    assert quarter["service_level_pct"] == 50.0
    assert (quarter["asa_s"], quarter["aht_s"], quarter["longest_wait_s"]) == (42.5, 170.5, 80.0)


async def test_overflow_and_callback_are_counted_where_they_happened(engine: AsyncEngine) -> None:
    report = await queues(engine, QUARTER)
    vip = at(report, "2025-06-16T10:15+08:00", "vip")  # s1 entered vip at 10:20
    assert (vip["offered"], vip["overflowed"], vip["answered"]) == (1, 1, 0)
    assert vip["service_level_pct"] is None  # nothing to judge
    assert (vip["asa_s"], vip["aht_s"], vip["longest_wait_s"]) == (None, None, None)
    callback = at(report, "2025-06-16T10:30+08:00")  # k1 entered 10:40
    assert (callback["offered"], callback["callbacks"], callback["answered"]) == (1, 1, 0)
    # the callback's answer at 11:30 is no answered call
    assert at(report, "2025-06-16T11:30+08:00")["answered"] == 0
    # every quarter of the day, for each queue seen: 96 x 2
    assert len(report.rows) == 96 * 2
    assert report.columns == COLUMNS


async def test_days_with_a_call_from_the_evening_before_and_a_day_without_calls(
    engine: AsyncEngine,
) -> None:
    report = await queues(engine, {"start": "2025-06-15", "end": "2025-06-17", "interval": "day"})
    assert [r["interval"] for r in report.rows if r["queue"] == "general"] == [
        "2025-06-15",
        "2025-06-16",
        "2025-06-17",
    ]
    # p0 entered at 23:59:50 on the 15th: it belongs to the 15th, answered in 15 s
    evening = at(report, "2025-06-15")
    assert (evening["offered"], evening["answered"], evening["service_level_pct"]) == (1, 1, 100.0)
    assert (evening["asa_s"], evening["aht_s"]) == (15.0, None)  # no talk recorded yet
    # the 16th: c1 c2 c3 c4 c5 c6 s1 k1 = 8 offered; answered c1 c2 c6 s1; abandoned c4 c5
    # abandon % = 2 / (8 - 1) = 28.6; SL = (c1, c6) 2 / (4 + c4) 5 = 40.0
    # ASA = (10 + 31 + 5 + 80) / 4 = 31.5; AHT = (210 + 119 + 270 + 71) / 4 = 167.5
    day = at(report, "2025-06-16")
    assert (day["offered"], day["answered"], day["abandoned"], day["short_abandoned"]) == (
        8,
        4,
        2,
        1,
    )
    assert (day["callbacks"], day["overflowed"]) == (1, 0)
    assert (day["abandon_pct"], day["service_level_pct"]) == (28.6, 40.0)
    assert (day["asa_s"], day["aht_s"], day["longest_wait_s"]) == (31.5, 167.5, 80.0)
    empty = at(report, "2025-06-17")
    assert empty["offered"] == 0
    assert empty["service_level_pct"] is None
    assert (empty["abandon_pct"], empty["asa_s"], empty["longest_wait_s"]) == (None, None, None)


@pytest.mark.parametrize(
    ("definition", "first", "second"),
    [
        # 10:00: c1 within / (c1 c2 + c4);  10:15: c6 within / (c6 s1 + nothing after 20 s)
        ({"abandoned": "after-threshold"}, 33.3, 50.0),
        # every abandon that is not short: 10:00 + c4 -> 1/3; 10:15 + c5 -> 1/3
        ({"abandoned": "all"}, 33.3, 33.3),
        # answered only: 1/2 and 1/2
        ({"abandoned": "none"}, 50.0, 50.0),
        # no short abandons, all abandons: 10:00: 1 / (2 + c3 + c4) = 25.0
        ({"abandoned": "all", "short_abandon_s": 0}, 25.0, 33.3),
        # within 35 s: 10:00: c1 c2 = 2 / (2 + c4) = 66.7; 10:15: c6 1 / 2 = 50.0
        ({"threshold_s": 35}, 66.7, 50.0),
    ],
)
async def test_service_level_follows_its_definition_and_prints_it(
    engine: AsyncEngine, definition: dict[str, Any], first: float, second: float
) -> None:
    report = await queues(engine, QUARTER, service_level=definition)
    assert at(report, "2025-06-16T10:00+08:00")["service_level_pct"] == first
    assert at(report, "2025-06-16T10:15+08:00")["service_level_pct"] == second
    described = settings_at(NOW, service_level=definition).reports.service_level.describe()
    assert f"Service level: {described}." in report.notes


async def test_a_short_abandon_threshold_of_zero_counts_every_abandon(
    engine: AsyncEngine,
) -> None:
    report = await queues(engine, QUARTER, service_level={"short_abandon_s": 0})
    first = at(report, "2025-06-16T10:00+08:00")
    assert (first["abandoned"], first["short_abandoned"]) == (2, 0)
    assert first["abandon_pct"] == 50.0  # 2 / 4


async def test_each_queue_judged_by_its_own_threshold(engine: AsyncEngine) -> None:
    await add_queue(engine, "general", threshold_s=35, target_pct=80)
    await add_queue(engine, "vip", threshold_s=15, target_pct=90)
    report = await queues(engine, QUARTER, service_level={"queue_thresholds": True})
    first = at(report, "2025-06-16T10:00+08:00")
    assert first["service_level_pct"] == 66.7  # within 35 s: c1 c2 / (c1 c2 + c4)
    assert first["sl_target_pct"] == 80
    assert at(report, "2025-06-16T10:00+08:00", "vip")["sl_target_pct"] == 90
    assert any(n.startswith("Service level of general: answered within 35 s") for n in report.notes)
    assert any(n.startswith("Service level of vip: answered within 15 s") for n in report.notes)
    # without the option the queues' own thresholds are shown as targets only
    plain = await queues(engine, QUARTER)
    assert at(plain, "2025-06-16T10:00+08:00")["service_level_pct"] == 33.3


async def test_one_queue_and_an_hour(engine: AsyncEngine) -> None:
    report = await queues(
        engine, {"start": "2025-06-16", "end": "2025-06-16", "interval": "60", "queue": "vip"}
    )
    assert {r["queue"] for r in report.rows} == {"vip"}
    assert len(report.rows) == 24
    hour = at(report, "2025-06-16T10:00+08:00", "vip")
    assert (hour["offered"], hour["overflowed"]) == (1, 1)
    # a queue with no calls at all still gets its rows when asked for
    none = await queues(engine, {"start": "2025-06-16", "end": "2025-06-16", "queue": "sales"})
    assert len(none.rows) == 24 and all(r["offered"] == 0 for r in none.rows)


async def test_csv_json_and_png(engine: AsyncEngine) -> None:
    report = await queues(engine, {"start": "2025-06-16", "end": "2025-06-16", "interval": 60})
    lines = report.to_csv().splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == 1 + len(report.rows)
    ten = next(line for line in lines if line.startswith("2025-06-16T10:00+08:00,general,"))
    # 10:00-11:00 general: 8 offered (p0 is on the 15th), SL 40.0, no target
    assert ten.split(",")[2] == "8"
    assert ten.split(",")[COLUMNS.index("sl_target_pct")] == ""
    body = report.to_json()
    assert set(body) == {"name", "title", "columns", "rows", "notes"}
    assert body["name"] == "queues" and body["columns"] == COLUMNS
    assert all(list(row) == COLUMNS for row in body["rows"])
    png = report.to_png()
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")
