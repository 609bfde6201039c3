"""Operations staff and the holiday calendar: list, add a day or a range, remove one
(by its first day). The file and its format are :mod:`ivr_engine.interpreter.holiday_file`;
the changes, one at a time and followed by the running calendar, :mod:`.holiday_editor`,
the handlers' tools."""

from __future__ import annotations

import re
from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ivr_engine.http.api.endpoint import ADMIN, ApiRequest, Endpoint
from ivr_engine.http.api.errors import ApiError
from ivr_engine.http.api.holiday_editor import HolidayEditor
from ivr_engine.interpreter.holiday_file import HolidayEntry

TAG = "operations"
NAME = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"  # one line, not blank
MAX_RANGE_DAYS = 31
FIRST_YEAR, LAST_YEAR = 2000, 2100
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class HolidayBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)
    date_: date | None = Field(None, alias="date", description="one day (YYYY-MM-DD)")
    from_: date | None = Field(None, alias="from", description="first day of a range")
    to: date | None = Field(None, description="last day of a range (included)")
    name: str = Field(min_length=1, max_length=60, pattern=NAME)

    @model_validator(mode="after")
    def _day_or_range(self) -> Self:
        if (self.date_ is None) == (self.from_ is None and self.to is None):
            raise ValueError("give date, or from and to")
        if self.date_ is None and (self.from_ is None or self.to is None):
            raise ValueError("a range needs both from and to")
        return self

    def entry(self) -> HolidayEntry:
        first = self.date_ or self.from_
        last = self.date_ or self.to
        assert first is not None and last is not None
        return HolidayEntry(first, last, self.name.strip())


class HolidayView(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    from_: date = Field(alias="from")
    to: date
    name: str
    days: int


class HolidayList(BaseModel):
    holidays: list[HolidayView] = Field(description="in date order")
    in_force: bool = Field(description="the running engine's calendar has exactly these days")


def _view(entry: HolidayEntry) -> HolidayView:
    return HolidayView(from_=entry.first, to=entry.last, name=entry.name, days=entry.days)


def _problem(field: str, reason: str) -> ApiError:
    return ApiError(422, f"{field}: {reason}", [{"field": field, "reason": reason}])


def _check_new(entry: HolidayEntry) -> None:
    field = "date" if entry.first == entry.last else "to"
    if entry.last < entry.first:
        raise _problem("to", "the range ends before it starts")
    if entry.days > MAX_RANGE_DAYS:
        raise _problem("to", f"a range is at most {MAX_RANGE_DAYS} days")
    for day in (entry.first, entry.last):
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise _problem(field, f"a year from {FIRST_YEAR} to {LAST_YEAR}")


async def list_holidays(editor: HolidayEditor, _call: ApiRequest) -> HolidayList:
    current = await editor.read()
    entries = sorted(current.entries, key=lambda e: (e.first, e.last))
    return HolidayList(holidays=[_view(e) for e in entries], in_force=editor.in_force(current))


async def add_holiday(editor: HolidayEditor, call: ApiRequest) -> HolidayView:
    entry = call.body_as(HolidayBody).entry()
    _check_new(entry)
    return _view(await editor.add(entry))


async def remove_holiday(editor: HolidayEditor, call: ApiRequest) -> HolidayView:
    return _view(await editor.remove(_path_date(call.path("date"))))


def _path_date(text: str) -> date:
    try:
        if not _ISO_DAY.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise _problem("date", "a date as YYYY-MM-DD") from exc


HOLIDAY_ENDPOINTS: tuple[Endpoint[HolidayEditor], ...] = (
    Endpoint(
        "GET",
        "/holidays",
        list_holidays,
        "The holiday calendar",
        TAG,
        ADMIN,
        response=HolidayList,
        errors=(409,),
    ),
    Endpoint(
        "POST",
        "/holidays",
        add_holiday,
        "Add a holiday, or a range of holidays",
        TAG,
        ADMIN,
        body=HolidayBody,
        response=HolidayView,
        status=201,
        errors=(409,),
        description="New calls get the holiday greeting on these days. 409 when a day"
        " is a holiday already.",
    ),
    Endpoint(
        "DELETE",
        "/holidays/{date}",
        remove_holiday,
        "Remove a holiday (a range by its first day)",
        TAG,
        ADMIN,
        response=HolidayView,
        errors=(404, 409, 422),
        description="409 for a day inside a range: remove the range by its first day.",
    ),
)
