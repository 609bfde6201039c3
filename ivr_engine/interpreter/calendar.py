"""The hotline's sense of time: its time zone, the weekend window and the holidays."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr_engine.interpreter.holiday_file import HolidayFileError, days_of, read_holiday_file
from ivr_engine.menus.conditions import WEEKDAYS
from ivr_engine.settings import CalendarSettings


def _week_minute(spec: str) -> int:
    """'fri 18:00' -> minutes since Monday 00:00."""
    day, _, hhmm = spec.partition(" ")
    hours, minutes = hhmm.split(":")
    return WEEKDAYS.index(day) * 1440 + int(hours) * 60 + int(minutes)


class Holidays(Collection[date]):
    """The holiday calendar's days as read from its file. ``reload`` reads the file again
    and swaps the days whole (one assignment), so a call never sees half a change."""

    def __init__(self, path: Path | None = None, days: Iterable[date] = ()) -> None:
        self.path = path
        self._days = frozenset(days)

    @classmethod
    def from_file(cls, path: Path) -> Holidays:
        return cls(path, load_holidays(path))

    def reload(self) -> frozenset[date]:
        """Read the file again (blocking: call it off the event loop); HolidayFileError (a
        ValueError) if it is not a holiday calendar, and the days stay as they were."""
        if self.path is not None:
            self._days = load_holidays(self.path)
        return self._days

    @property
    def days(self) -> frozenset[date]:
        return self._days

    def __contains__(self, day: object) -> bool:
        return day in self._days

    def __iter__(self) -> Iterator[date]:
        return iter(self._days)

    def __len__(self) -> int:
        return len(self._days)


@dataclass(frozen=True)
class Calendar:
    timezone: ZoneInfo
    weekend_from: int  # minutes since Monday 00:00
    weekend_to: int
    holidays: Collection[date] = field(default_factory=frozenset)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())

    @classmethod
    def from_settings(cls, settings: CalendarSettings, holidays_file: Path) -> Calendar:
        zone = ZoneInfo(settings.timezone)
        clock: Callable[[], datetime]
        if settings.fixed_time:
            fixed = datetime.fromisoformat(settings.fixed_time)
            clock = lambda: fixed  # noqa: E731
        else:
            clock = lambda: datetime.now(zone)  # noqa: E731
        return cls(
            zone,
            _week_minute(settings.weekend_from),
            _week_minute(settings.weekend_to),
            Holidays.from_file(holidays_file),
            clock,
        )

    def now(self) -> datetime:
        return self.clock().astimezone(self.timezone)

    def is_weekend(self, at: datetime) -> bool:
        minute = at.weekday() * 1440 + at.hour * 60 + at.minute
        start, end = self.weekend_from, self.weekend_to
        if start <= end:
            return start <= minute < end
        return minute >= start or minute < end  # the window wraps past Sunday midnight

    def is_holiday(self, at: datetime) -> bool:
        return at.date() in self.holidays


def load_holidays(path: Path) -> frozenset[date]:
    """The days of the holiday file (:mod:`.holiday_file`); :class:`HolidayFileError`, a
    ValueError naming the file, when it is not a holiday calendar."""
    try:
        return days_of(read_holiday_file(path).entries)
    except HolidayFileError as exc:
        raise HolidayFileError(f"{path}: {exc}") from exc
