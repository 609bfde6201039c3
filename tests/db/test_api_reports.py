"""Reports through the API: the same figures as the report itself, as JSON, CSV or PNG,
for supervisors and admins only, with bad parameters refused by field."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import pytest

from ground.database import make_engine
from tests.db.api_support import ApiHarness, api_harness
from tests.db.reports_support import add_queue_log, settings_at


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[ApiHarness]:
    async with api_harness(db_url, settings=settings_at("2025-06-16 18:00:00")) as harness:
        engine = make_engine(db_url, connect_timeout=5, command_timeout=10)
        try:
            # Two calls in general between 10:00 and 10:15, Shanghai time: one answered
            # after 12 s (within 20 s), one abandoned after 30 s (counted: after 20 s).
            await add_queue_log(
                engine,
                [
                    ("a", "general", "enter", "2025-06-16 10:01:00", None, None, None, ""),
                    ("a", "general", "answer", "2025-06-16 10:01:12", "8001", 12.0, None, ""),
                    ("a", "general", "complete", "2025-06-16 10:04:12", "8001", None, 180.0, ""),
                    ("b", "general", "enter", "2025-06-16 10:02:00", None, None, None, ""),
                    ("b", "general", "abandon", "2025-06-16 10:02:30", None, 30.0, None, ""),
                ],
            )
        finally:
            await engine.dispose()
        yield harness


async def test_the_queue_report_as_json(api: ApiHarness) -> None:
    status, body = await api.call(
        "GET", "/reports/queues", "supervisor", start="2025-06-16", queue="general", interval="15"
    )
    assert status == 200, body
    (row,) = [r for r in body["rows"] if r["offered"]]
    # 1 of 2 counted calls within 20 s: 50 %; ASA 12 s; longest wait 30 s.
    assert (row["offered"], row["answered"], row["abandoned"]) == (2, 1, 1)
    assert row["service_level_pct"] == 50.0
    assert row["asa_s"] == 12.0
    assert any("answered within 20 s" in note for note in body["notes"])


async def test_csv_and_png(api: ApiHarness) -> None:
    response = await api.client.get(
        "/api/v1/reports/queues",
        params={"start": "2025-06-16", "queue": "general", "interval": "day", "format": "csv"},
        headers=api.auth("admin"),
    )
    assert response.status == 200
    assert response.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(r["offered"], r["answered"]) for r in rows if r["queue"] == "general"] == [("2", "1")]
    response = await api.client.get(
        "/api/v1/reports/queues",
        params={"start": "2025-06-16", "interval": "60", "format": "png"},
        headers=api.auth("supervisor"),
    )
    assert response.status == 200
    assert (await response.read()).startswith(b"\x89PNG\r\n\x1a\n")


async def test_denials_and_bad_parameters(api: ApiHarness) -> None:
    assert (await api.call("GET", "/reports/queues", "8001"))[0] == 403
    assert (await api.call("GET", "/reports/queues", None))[0] == 401
    status, body = await api.call("GET", "/reports/queues", "supervisor", interval="7")
    assert status == 422
    assert body["problems"][0]["field"] == "interval"
    status, body = await api.call("GET", "/reports/queues", "supervisor", format="xls")
    assert (status, body["problems"][0]["field"]) == (422, "format")
    status, body = await api.call("GET", "/reports/agents", "supervisor", interval="15")
    assert status == 422  # the agents report takes no interval
    status, body = await api.call(
        "GET", "/reports/fluctuation", "supervisor", start="2025-06-10", end="2025-06-01"
    )
    assert status == 422


async def test_every_report_answers_and_is_in_the_openapi_document(api: ApiHarness) -> None:
    from ivr_engine.reports.registry import REPORTS

    document = api.server.document()
    for name in REPORTS:
        status, body = await api.call("GET", f"/reports/{name}", "supervisor", start="2025-06-16")
        assert status == 200, (name, body)
        assert body["name"] == name
        operation = document["paths"][f"/api/v1/reports/{name}"]["get"]
        assert "format" in {p["name"] for p in operation["parameters"]}
