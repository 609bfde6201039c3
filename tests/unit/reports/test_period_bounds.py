"""A report's period is bounded: a fuzzed or careless request for ten thousand years of
15-minute rows is refused at once instead of keeping the API busy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr_engine.reports.params import MAX_DAYS, PeriodParams, ReportError, resolve_period
from ivr_engine.settings import Settings

NOW = datetime(2025, 6, 16, 4, 0, tzinfo=UTC)


def _resolve(start: str, end: str) -> None:
    resolve_period(PeriodParams.model_validate({"start": start, "end": end}), Settings(), now=NOW)


def test_a_year_is_allowed_and_the_limit_is_refused_with_the_reason() -> None:
    _resolve("2024-06-01", "2025-05-31")
    with pytest.raises(ReportError, match=f"at most {MAX_DAYS} days"):
        _resolve("2000-01-01", "2025-05-31")


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", "2025-01-01"), ("2025-01-01", "9999-12-31")]
)
def test_the_edges_of_the_calendar_are_refused_not_crashed(start: str, end: str) -> None:
    with pytest.raises(ReportError):
        _resolve(start, end)
