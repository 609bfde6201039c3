"""Report parameters, periods and intervals in the hotline's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ivr_engine.reports.params import (
    AgentParams,
    Buckets,
    PeriodParams,
    QueueParams,
    ReportError,
    resolve_period,
)
from ivr_engine.reports.registry import REPORTS
from ivr_engine.settings import Settings

SH = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings()
NOW = datetime(2025, 6, 16, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def sh(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SH)


def test_dates_are_whole_hotline_days_both_included() -> None:
    params = PeriodParams.model_validate({"start": "2025-06-01", "end": "2025-06-30"})
    assert (params.start, params.end) == (date(2025, 6, 1), date(2025, 6, 30))
    period = resolve_period(params, SETTINGS, now=NOW)
    assert period.start == sh(2025, 6, 1)  # Shanghai midnight: 16:00 UTC the day before
    assert period.start == datetime(2025, 5, 31, 16, 0, tzinfo=UTC)
    assert period.end == sh(2025, 7, 1)
    assert len(period.days()) == 30
    assert period.stop == NOW  # the end is later than now


def test_datetimes_are_moments_without_an_offset_in_hotline_time() -> None:
    params = PeriodParams.model_validate(
        {"start": "2025-06-16T10:00", "end": "2025-06-16 10:30:00+00:00"}
    )
    period = resolve_period(params, SETTINGS, now=NOW)
    assert period.start == sh(2025, 6, 16, 10, 0)
    assert period.end == datetime(2025, 6, 16, 10, 30, tzinfo=UTC)  # 18:30 in Shanghai
    assert period.days() == [date(2025, 6, 16)]


def test_defaults_end_today_and_last_the_reports_length() -> None:
    period = resolve_period(PeriodParams(), SETTINGS, now=NOW)
    assert (period.start, period.end) == (sh(2025, 6, 16), sh(2025, 6, 17))
    month = resolve_period(PeriodParams(end=date(2025, 6, 30)), SETTINGS, default_days=30)
    assert (month.start, month.end) == (sh(2025, 6, 1), sh(2025, 7, 1))


def test_now_is_the_settings_fixed_time_when_set() -> None:
    fixed = Settings.model_validate({"calendar": {"fixed_time": "2025-06-16T09:30:00"}})
    period = resolve_period(PeriodParams(), fixed)
    assert period.now == sh(2025, 6, 16, 9, 30)
    assert period.stop == sh(2025, 6, 16, 9, 30)


def test_empty_or_backwards_periods_are_refused() -> None:
    with pytest.raises(ValidationError, match="ends"):
        PeriodParams.model_validate({"start": "2025-06-20", "end": "2025-06-01"})
    with pytest.raises(ReportError, match="must end after it starts"):
        resolve_period(
            PeriodParams.model_validate({"start": "2025-06-16T10:00", "end": "2025-06-16T10:00"}),
            SETTINGS,
            now=NOW,
        )
    with pytest.raises(ValidationError):
        PeriodParams.model_validate({"start": "2025-06-31"})


def test_each_report_takes_only_its_own_parameters() -> None:
    assert set(REPORTS) == {
        "queues",
        "agents",
        "ivr",
        "funnel",
        "repeat-callers",
        "fluctuation",
        "survey",
    }
    with pytest.raises(ValidationError, match="Extra inputs"):
        AgentParams.model_validate({"queue": "general"})
    with pytest.raises(ValidationError):
        QueueParams.model_validate({"interval": "45"})
    assert QueueParams.model_validate({"interval": 15}).interval == "15"
    assert QueueParams().interval == "60"
    assert REPORTS["ivr"].params().model_dump()["interval"] == "day"


@pytest.mark.parametrize(
    ("minutes", "moment", "start"),
    [
        ("15", sh(2025, 6, 16, 10, 14, 59), sh(2025, 6, 16, 10, 0)),
        ("15", sh(2025, 6, 16, 10, 15, 0), sh(2025, 6, 16, 10, 15)),
        ("30", sh(2025, 6, 16, 10, 29, 59), sh(2025, 6, 16, 10, 0)),
        ("30", sh(2025, 6, 16, 10, 30, 0), sh(2025, 6, 16, 10, 30)),
        ("60", sh(2025, 6, 16, 10, 59, 59), sh(2025, 6, 16, 10, 0)),
        ("day", sh(2025, 6, 16, 23, 59, 59), sh(2025, 6, 16)),
        ("day", sh(2025, 6, 17, 0, 0, 0), sh(2025, 6, 17)),
        # 23:59 UTC on the 15th is already the 16th in Shanghai
        ("day", datetime(2025, 6, 15, 16, 0, tzinfo=UTC), sh(2025, 6, 16)),
    ],
)
def test_a_moment_belongs_to_the_interval_that_starts_at_or_before_it(
    minutes: str, moment: datetime, start: datetime
) -> None:
    period = resolve_period(
        PeriodParams(start=date(2025, 6, 15), end=date(2025, 6, 17)), SETTINGS, now=NOW
    )
    assert Buckets(period, minutes).key(moment) == start


def test_every_interval_of_the_period_with_its_label() -> None:
    period = resolve_period(PeriodParams(start=date(2025, 6, 16), end=date(2025, 6, 16)), SETTINGS)
    quarters = Buckets(period, "15")
    keys = quarters.all()
    assert len(keys) == 96
    assert quarters.label(keys[0]) == "2025-06-16T00:00+08:00"
    assert quarters.label(keys[41]) == "2025-06-16T10:15+08:00"
    days = Buckets(period, "day")
    assert [days.label(k) for k in days.all()] == ["2025-06-16"]
    part = resolve_period(
        PeriodParams.model_validate({"start": "2025-06-16T10:07", "end": "2025-06-16T11:00"}),
        SETTINGS,
    )
    # the first interval is the one the period's start falls in
    assert [Buckets(part, "30").label(k) for k in Buckets(part, "30").all()] == [
        "2025-06-16T10:00+08:00",
        "2025-06-16T10:30+08:00",
    ]
