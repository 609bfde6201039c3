"""What a report is asked for (the period, a queue or an agent, the interval) and the
hotline-time arithmetic every report shares.

Dates are whole days in the hotline's time zone (``calendar.timezone``), both ends
included: ``start=2025-06-01, end=2025-06-30`` is June. Datetimes are moments: the start
is included, the end is not; a datetime without an offset is hotline time. Without an
``end`` the period ends with today; without a ``start`` it is the report's default length
(one day for most reports) ending there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ivr_engine.settings import Settings

__all__ = [
    "AgentParams",
    "Buckets",
    "IntervalParams",
    "Moment",
    "Period",
    "PeriodParams",
    "QueueParams",
    "ReportError",
    "SurveyParams",
    "TopParams",
    "now_in",
    "resolve_period",
]


MAX_DAYS = 400  # the longest period a report covers: a year and a bit, never unbounded


class ReportError(ValueError):
    """A report cannot be made as asked (a period that ends before it starts, ...)."""


def _moment(value: Any) -> Any:
    """'2025-06-15' is a date (a whole day); anything longer is a datetime."""
    if isinstance(value, str):
        text = value.strip()
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    return value


Moment = Annotated[datetime | date, BeforeValidator(_moment)]

Interval = Literal["15", "30", "60", "day"]


def _interval(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class PeriodParams(BaseModel):
    """The period of a report (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Moment | None = Field(None, description="First day (or moment) of the period.")
    end: Moment | None = Field(None, description="Last day (or the moment after the period).")

    @model_validator(mode="after")
    def _ordered(self) -> PeriodParams:
        start, end = self.start, self.end
        if start is None or end is None:
            return self
        if not isinstance(start, datetime) and not isinstance(end, datetime) and end < start:
            raise ValueError(f"the period ends ({end}) before it starts ({start})")
        return self


class IntervalParams(PeriodParams):
    interval: Annotated[Interval, BeforeValidator(_interval)] = Field(
        "day", description="Rows per 15, 30 or 60 minutes, or per day."
    )


class QueueParams(PeriodParams):
    queue: str | None = Field(None, description="Only this queue.")
    interval: Annotated[Interval, BeforeValidator(_interval)] = Field(
        "60", description="Rows per 15, 30 or 60 minutes, or per day."
    )


class AgentParams(PeriodParams):
    agent: str | None = Field(None, description="Only this agent.")


class SurveyParams(PeriodParams):
    queue: str | None = Field(None, description="Only calls whose agent was in this queue.")


class TopParams(PeriodParams):
    top: int = Field(50, ge=1, le=10000, description="At most this many rows.")


def now_in(settings: Settings) -> datetime:
    """The hotline's now (``calendar.fixed_time`` when set, as the engine does), in UTC."""
    fixed = settings.calendar.fixed_time
    if fixed:
        moment = datetime.fromisoformat(fixed)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(settings.calendar.timezone))
        return moment.astimezone(UTC)
    return datetime.now(UTC)


@dataclass(frozen=True)
class Period:
    """A report's period as UTC moments: ``start`` included, ``end`` not."""

    start: datetime
    end: datetime
    zone: ZoneInfo
    now: datetime

    @property
    def stop(self) -> datetime:
        """Where the period's time really ends: its end, or now if that is earlier."""
        return max(self.start, min(self.end, self.now))

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone)

    def days(self) -> list[date]:
        """Every hotline day the period touches, in order."""
        first = self.local(self.start).date()
        last = self.local(self.end - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def day_spans(self) -> list[tuple[date, datetime, datetime]]:
        """The period cut at hotline midnights: (day, start, end) in UTC, in order."""
        spans = []
        for day in self.days():
            start = max(self.start, _midnight(day, self.zone))
            end = min(self.end, _midnight(day + timedelta(days=1), self.zone))
            spans.append((day, start, end))
        return spans

    def describe(self) -> str:
        def shown(at: datetime) -> str:
            return self.local(at).strftime("%Y-%m-%d %H:%M")

        return f"{shown(self.start)} to {shown(self.end)} ({self.zone.key} time, end excluded)"


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _as_start(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    return _midnight(value, zone)


def _as_end(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return _as_start(value, zone)
    return _midnight(value + timedelta(days=1), zone)


def resolve_period(
    params: PeriodParams, settings: Settings, *, default_days: int = 1, now: datetime | None = None
) -> Period:
    """The params' period in UTC, defaults filled in (``ReportError`` if it is empty)."""
    zone = ZoneInfo(settings.calendar.timezone)
    moment = now_in(settings) if now is None else now.astimezone(UTC)
    end_value: date | datetime = (
        params.end if params.end is not None else moment.astimezone(zone).date()
    )
    try:
        end = _as_end(end_value, zone)
        if params.start is not None:
            start = _as_start(params.start, zone)
        else:
            last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
            start = _midnight(last_day - timedelta(days=default_days - 1), zone)
    except OverflowError as exc:  # a date at the very edge of the calendar (year 1, 9999)
        raise ReportError(f"the period is outside the calendar: {exc}") from exc
    if end <= start:
        raise ReportError(
            f"the period must end after it starts: {start.isoformat()} to {end.isoformat()}"
        )
    if end - start > timedelta(days=MAX_DAYS):
        raise ReportError(f"a report covers at most {MAX_DAYS} days; ask for a shorter period")
    return Period(start, end, zone, moment)


class Buckets:
    """Rows per interval: 15, 30 or 60 minutes of hotline time, or hotline days.

    A moment belongs to the interval that starts at or before it: with 15 minutes, 10:14:59
    is in 10:00-10:15 and 10:15:00 starts the next one. Keys are the intervals' starts in UTC.
    """

    def __init__(self, period: Period, interval: str) -> None:
        self.period = period
        self.interval = interval
        self.minutes = None if interval == "day" else int(interval)

    def key(self, at: datetime) -> datetime:
        local = self.period.local(at)
        if self.minutes is None:
            floor = datetime.combine(local.date(), time(0), tzinfo=self.period.zone)
        else:
            minute = (local.hour * 60 + local.minute) // self.minutes * self.minutes
            floor = datetime.combine(
                local.date(), time(minute // 60, minute % 60), tzinfo=self.period.zone
            )
        return floor.astimezone(UTC)

    def all(self) -> list[datetime]:
        """Every interval of the period, in order."""
        if self.minutes is None:
            return [_midnight(day, self.period.zone) for day in self.period.days()]
        step = timedelta(minutes=self.minutes)
        keys = []
        at = self.key(self.period.start)
        while at < self.period.end:
            keys.append(at)
            at += step
        return keys

    def label(self, key: datetime) -> str:
        local = self.period.local(key)
        if self.minutes is None:
            return local.date().isoformat()
        return local.isoformat(timespec="minutes")

    def describe(self) -> str:
        if self.minutes is None:
            return f"one row per day ({self.period.zone.key} time)"
        return (
            f"intervals of {self.minutes} minutes ({self.period.zone.key} time), each"
            " labelled by its start"
        )
