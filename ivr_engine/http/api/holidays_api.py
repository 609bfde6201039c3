"""Operations staff and the holiday calendar (``config/holidays.yaml``, read by
``ivr_engine.interpreter.calendar.load_holidays``): list, add a day or a range, remove one.

Each change rewrites the file whole and atomically (a temporary file beside it, then a
rename), in the file's own style: the comment block at its top is kept, then one line per
entry in date order, its name as the line's comment::

    holidays:
      - 2027-01-01                              # New Year's Day
      - {from: 2027-02-05, to: 2027-02-13}      # Spring Festival

Other comments are not kept. Then the running engine's calendar reads the file again, so
new calls hear the right greeting. An entry is named by its first day.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ground.files import replace_file
from ivr_engine.http.api.endpoint import ADMIN, ApiRequest, Endpoint
from ivr_engine.http.api.errors import ApiError
from ivr_engine.interpreter.calendar import Holidays

TAG = "operations"
NAME = r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$"  # one line, not blank
MAX_RANGE_DAYS = 31
FIRST_YEAR, LAST_YEAR = 2000, 2100
DEFAULT_HEADER = [
    "# Public holidays: the hotline plays its holiday greeting on these dates (local time).",
    "# A date, or a {from, to} range (both days included).",
]
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class HolidayFileError(ValueError):
    """The file cannot be read as a holiday calendar (a hand edit gone wrong)."""


@dataclass(frozen=True)
class HolidayEntry:
    first: date
    last: date
    name: str = ""

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def overlaps(self, other: HolidayEntry) -> bool:
        return self.first <= other.last and other.first <= self.last

    def describe(self) -> str:
        when = str(self.first) if self.first == self.last else f"{self.first} to {self.last}"
        return f"{when} ({self.name})" if self.name else when


@dataclass(frozen=True)
class HolidayFile:
    header: list[str]  # the comment lines at the top of the file
    entries: list[HolidayEntry]


def _last_line(node: yaml.Node) -> int:
    """The line of the last scalar of a node (0-based)."""
    if isinstance(node, yaml.MappingNode) and node.value:
        return _last_line(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and node.value:
        return _last_line(node.value[-1])
    return int(node.end_mark.line)


def _comment(lines: list[str], node: yaml.Node) -> str:
    """The comment on the item's own line(s): its name."""
    first = node.start_mark.line
    for number in range(first, _last_line(node) + 1):
        if number >= len(lines):
            break
        start = node.start_mark.column if number == first else 0
        mark = lines[number].find("#", start)
        if mark >= 0:
            return lines[number][mark + 1 :].strip()
    return ""


def _day(value: Any, where: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise HolidayFileError(f"{where}: {value!r} is not a date (YYYY-MM-DD)")
    return value


def parse_holiday_file(text: str) -> HolidayFile:
    """The entries of a holiday file with their names (the comments on their lines)."""
    lines = text.splitlines()
    header: list[str] = []
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            break
        header.append(line)
    while header and not header[-1].strip():
        header.pop()
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise HolidayFileError(f"not valid YAML: {exc}") from exc
    data = data or {}
    if not isinstance(data, dict) or set(data) - {"holidays"}:
        raise HolidayFileError("the file must hold one key, holidays: a list of dates")
    items = data.get("holidays") or []
    if not isinstance(items, list):
        raise HolidayFileError("holidays: must be a list of dates or {from, to} ranges")
    nodes: list[yaml.Node] = []
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == "holidays" and isinstance(value, yaml.SequenceNode):
                nodes = list(value.value)
    entries: list[HolidayEntry] = []
    for item, node in zip(items, nodes, strict=True):
        where = f"line {node.start_mark.line + 1}"
        if isinstance(item, dict):
            if set(item) != {"from", "to"}:
                raise HolidayFileError(f"{where}: a range is {{from: DATE, to: DATE}}")
            first, last = _day(item["from"], where), _day(item["to"], where)
        else:
            first = last = _day(item, where)
        entries.append(HolidayEntry(first, last, _comment(lines, node)))
    return HolidayFile(header, entries)


def render_holiday_file(holidays: HolidayFile) -> str:
    out = [*(holidays.header or DEFAULT_HEADER)]
    entries = sorted(holidays.entries, key=lambda e: (e.first, e.last))
    if not entries:
        return "\n".join([*out, "holidays: []"]) + "\n"
    out.append("holidays:")
    for entry in entries:
        if entry.first == entry.last:
            item = f"  - {entry.first.isoformat()}"
        else:
            item = f"  - {{from: {entry.first.isoformat()}, to: {entry.last.isoformat()}}}"
        out.append(f"{item:<40}  # {entry.name}" if entry.name else item)
    return "\n".join(out) + "\n"


def days_of(entries: list[HolidayEntry]) -> frozenset[date]:
    found: set[date] = set()
    for entry in entries:
        found.update(entry.first + timedelta(days=n) for n in range(entry.days))
    return frozenset(found)


def read_holiday_file(path: Path) -> HolidayFile:
    if not path.exists():
        return HolidayFile([], [])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HolidayFileError(f"cannot read the file: {exc}") from exc
    return parse_holiday_file(text)


def write_holiday_file(path: Path, holidays: HolidayFile) -> None:
    """Write the file whole: a temporary file beside it, flushed, then renamed over it."""
    text = render_holiday_file(holidays)
    if days_of(parse_holiday_file(text).entries) != days_of(holidays.entries):
        raise HolidayFileError("the rewritten file would not read back the same")  # a bug
    replace_file(path, text.encode("utf-8"))


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


def holiday_endpoints(holidays: Holidays, path: Path) -> list[Endpoint]:
    writing = asyncio.Lock()  # one change at a time in this engine

    def read() -> HolidayFile:
        try:
            return read_holiday_file(path)
        except HolidayFileError as exc:
            raise ApiError(409, f"{path.name} cannot be read ({exc}): fix it by hand") from exc

    def add(entry: HolidayEntry) -> HolidayEntry:
        current = read()
        for other in current.entries:
            if other.overlaps(entry):
                raise ApiError(409, f"already a holiday: {other.describe()}")
        write_holiday_file(path, HolidayFile(current.header, [*current.entries, entry]))
        holidays.reload()
        return entry

    def remove(day: date) -> HolidayEntry:
        current = read()
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
        write_holiday_file(path, HolidayFile(current.header, kept))
        holidays.reload()
        return found[0]

    async def list_holidays(_call: ApiRequest) -> HolidayList:
        current = await asyncio.to_thread(read)
        entries = sorted(current.entries, key=lambda e: (e.first, e.last))
        return HolidayList(
            holidays=[_view(e) for e in entries],
            in_force=days_of(current.entries) == holidays.days,
        )

    async def add_holiday(call: ApiRequest) -> HolidayView:
        entry = call.body_as(HolidayBody).entry()
        _check_new(entry)
        async with writing:
            return _view(await asyncio.to_thread(add, entry))

    async def remove_holiday(call: ApiRequest) -> HolidayView:
        text = call.path("date")
        try:
            if not _ISO_DAY.match(text):
                raise ValueError(text)
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise _problem("date", "a date as YYYY-MM-DD") from exc
        async with writing:
            return _view(await asyncio.to_thread(remove, day))

    return [
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
    ]
