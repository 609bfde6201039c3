"""The holiday file as operations staff change it through the API: one change at a time
in this engine, each made on the file as it is now (a hand edit included), written whole
(:mod:`ivr_engine.interpreter.holiday_file`), then read again by the running calendar, so
new calls hear the right greeting. An entry is named by its first day."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from ivr_engine.http.api.errors import ApiError
from ivr_engine.interpreter.calendar import Holidays
from ivr_engine.interpreter.holiday_file import (
    HolidayEntry,
    HolidayFile,
    HolidayFileError,
    days_of,
    read_holiday_file,
    write_holiday_file,
)


class HolidayEditor:
    """The holiday endpoints' tools: the running calendar's days and their file."""

    def __init__(self, holidays: Holidays, path: Path) -> None:
        self.holidays = holidays
        self.path = path
        self._writing = asyncio.Lock()

    async def read(self) -> HolidayFile:
        """The file as it is now (409 when a hand edit broke it)."""
        return await asyncio.to_thread(self._read)

    def in_force(self, current: HolidayFile) -> bool:
        """The running calendar has exactly the days of ``current``."""
        return days_of(current.entries) == self.holidays.days

    async def add(self, entry: HolidayEntry) -> HolidayEntry:
        """Add ``entry`` (409 when one of its days is a holiday already)."""
        async with self._writing:
            return await asyncio.to_thread(self._add, entry)

    async def remove(self, day: date) -> HolidayEntry:
        """Remove the entry that starts on ``day``, a range whole (404 when none does, 409
        when ``day`` is inside a range)."""
        async with self._writing:
            return await asyncio.to_thread(self._remove, day)

    def _read(self) -> HolidayFile:
        try:
            return read_holiday_file(self.path)
        except HolidayFileError as exc:
            raise ApiError(409, f"{self.path.name} cannot be read ({exc}): fix it by hand") from exc

    def _add(self, entry: HolidayEntry) -> HolidayEntry:
        current = self._read()
        for other in current.entries:
            if other.overlaps(entry):
                raise ApiError(409, f"already a holiday: {other.describe()}")
        write_holiday_file(self.path, HolidayFile(current.header, [*current.entries, entry]))
        self.holidays.reload()
        return entry

    def _remove(self, day: date) -> HolidayEntry:
        current = self._read()
        found = [e for e in current.entries if e.first == day]
        if not found:
            inside = [e for e in current.entries if e.first <= day <= e.last]
            if inside:
                raise ApiError(
                    409,
                    f"{day} is inside {inside[0].describe()}: remove the whole range by its"
                    f" first day ({inside[0].first}) and add back what stays",
                )
            raise ApiError(404, f"{day} is not a holiday")
        kept = [e for e in current.entries if e.first != day]
        write_holiday_file(self.path, HolidayFile(current.header, kept))
        self.holidays.reload()
        return found[0]
