"""The holiday calendar's file (``config/holidays.yaml``, ``hotline.holidays``): its one
reader and its one writer. Calls get its days through :mod:`.calendar`; operations staff
change it through the API (``ivr_engine.http.api.holidays_api``).

The file is a YAML list of days and ``{from, to}`` ranges (both days included), each
entry's name the comment on its line::

    holidays:
      - 2027-01-01                              # New Year's Day
      - {from: 2027-02-05, to: 2027-02-13}      # Spring Festival

Anything else is refused with :class:`HolidayFileError`. The writer rewrites the file
whole and atomically (a temporary file beside it, then a rename), in the file's own
style: the comment block at its top is kept, then one line per entry in date order, its
name as the line's comment. Other comments are not kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ground.files import replace_file

DEFAULT_HEADER = [
    "# Public holidays: the hotline plays its holiday greeting on these dates (local time).",
    "# A date, or a {from, to} range (both days included).",
]


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
    """The file's text in its own style (the default header when it has none)."""
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
    """Every day the entries cover."""
    found: set[date] = set()
    for entry in entries:
        found.update(entry.first + timedelta(days=n) for n in range(entry.days))
    return frozenset(found)


def read_holiday_file(path: Path) -> HolidayFile:
    """The file's entries and header; a file that does not exist is an empty calendar."""
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
