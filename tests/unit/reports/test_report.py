"""The report shape (CSV, JSON, table, PNG) and the service-level definition's variants."""

from __future__ import annotations

import csv
import io
import json

import pytest

from acd.service_level import ServiceLevelDefinition
from ivr_engine.reports.charts import (
    agent_chart,
    containment_chart,
    fluctuation_chart,
    funnel_chart,
    queue_chart,
    survey_chart,
)
from ivr_engine.reports.funnel import agent_node
from ivr_engine.reports.report import Report, pct, secs

PNG = b"\x89PNG\r\n\x1a\n"


def sample() -> Report:
    return Report(
        name="sample",
        title="A sample",
        columns=["queue", "offered", "service_level_pct"],
        rows=[
            {"queue": "general, shared", "offered": 3, "service_level_pct": 66.7},
            {"queue": "vip", "offered": 0, "service_level_pct": None},
        ],
        notes=["Service level: answered within 20 s / (answered)."],
    )


def test_csv_has_a_header_and_empty_cells_for_no_value() -> None:
    text = sample().to_csv()
    assert list(csv.reader(io.StringIO(text))) == [
        ["queue", "offered", "service_level_pct"],
        ["general, shared", "3", "66.7"],
        ["vip", "0", ""],
    ]
    assert text.splitlines()[1] == '"general, shared",3,66.7'


def test_json_is_plain_and_keeps_the_column_order() -> None:
    body = sample().to_json()
    assert json.loads(json.dumps(body)) == body
    assert body == {
        "name": "sample",
        "title": "A sample",
        "columns": ["queue", "offered", "service_level_pct"],
        "rows": [
            {"queue": "general, shared", "offered": 3, "service_level_pct": 66.7},
            {"queue": "vip", "offered": 0, "service_level_pct": None},
        ],
        "notes": ["Service level: answered within 20 s / (answered)."],
    }


def test_table_shows_the_rows_and_the_notes() -> None:
    lines = sample().to_table().splitlines()
    assert lines[0] == "A sample"
    assert lines[2].split() == ["queue", "offered", "service_level_pct"]
    assert lines[5].split() == ["vip", "0", "-"]
    assert lines[-1] == "* Service level: answered within 20 s / (answered)."


def test_a_report_without_a_chart_has_no_png() -> None:
    assert sample().to_png() is None


def test_rounding_helpers() -> None:
    assert (secs(None), secs(12.34)) == (None, 12.3)
    assert (pct(1, 3), pct(2, 3), pct(1, 0)) == (33.3, 66.7, None)


def test_every_chart_draws_a_png_even_without_rows() -> None:
    queue = Report("queues", "q", [], [
        {"interval": "2025-06-16T10:00+08:00", "queue": "general", "offered": 4,
         "service_level_pct": 33.3},
        {"interval": "2025-06-16T10:15+08:00", "queue": "general", "offered": 3,
         "service_level_pct": None},
    ])  # fmt: skip
    ivr = Report(
        "ivr", "i", [], [{"interval": "2025-06-16", "line": "all", "containment_pct": 50.0}]
    )
    funnel = Report("funnel", "f", [], [
        {"node": "cm-main", "depth": 1, "reached": 3, "asked_for_agent": 1, "hung_up": 1},
    ])  # fmt: skip
    days = Report("fluctuation", "d", [], [
        {"day": "2025-06-15", "attempts": 2}, {"day": "2025-06-16", "attempts": 0},
    ])  # fmt: skip
    survey = Report("survey", "s", ["day", "queue", "surveys", "answered_pct", "satisfied"], [
        {"day": "2025-06-16", "queue": None, "surveys": 1, "answered_pct": 100.0, "satisfied": 1},
    ])  # fmt: skip
    agents = Report("agents", "a", [], [{"agent": "8001", "occupancy_pct": 10.7}])
    images = [
        queue_chart(queue),
        containment_chart(ivr, 79.03),
        funnel_chart(funnel),
        fluctuation_chart(days, 1.5),
        survey_chart(survey),
        agent_chart(agents),
    ]
    empty = Report("x", "nothing", ["interval"], [])
    images += [queue_chart(empty), funnel_chart(empty), agent_chart(empty)]
    assert all(image.startswith(PNG) for image in images)


# -- service level ------------------------------------------------------------------------
ANSWERED = [5.0, 10.0, 20.0, 25.0]  # three within 20 s (20 s itself counts as within)
ABANDONED = [3.0, 15.0, 40.0]  # 3 s is a short abandon


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, 60.0),  # 3 / (4 + 1 abandoned after 20 s)
        ({"abandoned": "all"}, 50.0),  # 3 / (4 + 2): the short abandon left out
        ({"abandoned": "none"}, 75.0),  # 3 / 4
        ({"abandoned": "all", "short_abandon_s": 0}, 3 / 7 * 100),  # every abandon counts
        ({"threshold_s": 10}, 2 / 6 * 100),  # within 10 s: 2; after 10 s: 15 and 40
    ],
)
def test_service_level_variants(settings: dict[str, object], expected: float) -> None:
    definition = ServiceLevelDefinition.model_validate(settings)
    assert definition.compute(ANSWERED, ABANDONED) == pytest.approx(expected)


def test_service_level_without_calls_is_no_figure() -> None:
    assert ServiceLevelDefinition().compute([], [2.0]) is None  # only a short abandon


def test_queue_thresholds_only_when_asked_for() -> None:
    plain = ServiceLevelDefinition()
    assert plain.for_queue(15.0) is plain
    own = ServiceLevelDefinition(queue_thresholds=True)
    assert own.for_queue(15.0).threshold_s == 15.0
    assert own.for_queue(None).threshold_s == 20.0
    assert own.for_queue(15.0).describe().startswith("answered within 15 s")


def test_where_a_call_asked_for_an_agent() -> None:
    menu, branch, queue = "menu", "branch", "queue"
    assert agent_node([("a", menu), ("b", menu), ("c", branch), ("q", queue)]) == "b"
    assert agent_node([("a", "play"), ("q", queue)]) == "a"
    assert agent_node([("q", queue)]) == "q"
    assert agent_node([("a", menu)]) is None
