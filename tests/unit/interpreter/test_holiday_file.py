"""The holiday file as the API rewrites it: names from the comments of the entries'
lines, the top comment block kept, the same days read back by the engine's loader."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from ground.paths import PROJECT_ROOT
from ivr_engine.interpreter.calendar import Holidays, load_holidays
from ivr_engine.interpreter.holiday_file import (
    HolidayEntry,
    HolidayFile,
    HolidayFileError,
    days_of,
    parse_holiday_file,
    read_holiday_file,
    render_holiday_file,
    write_holiday_file,
)

SHIPPED = PROJECT_ROOT / "config" / "holidays.yaml"

HAND_WRITTEN = """# Our holidays.
# Kept by the operations desk.

holidays:
  # a comment line of its own is not a name
  - 2027-01-01   # New Year's Day
  - {from: 2027-02-05, to: 2027-02-07}
  - from: 2027-10-01
    to: 2027-10-03   # National Day
  - 2027-12-25
# the end
"""


def test_the_shipped_file_reads_back_the_same() -> None:
    parsed = parse_holiday_file(SHIPPED.read_text(encoding="utf-8"))
    assert days_of(parsed.entries) == load_holidays(SHIPPED)
    assert parsed.entries[0] == HolidayEntry(date(2026, 1, 1), date(2026, 1, 1), "New Year's Day")
    assert parsed.entries[1].name == "Spring Festival" and parsed.entries[1].days == 9
    assert parsed.header[0].startswith("# Public holidays")
    # Rewritten unchanged, the shipped file stays as it is.
    assert render_holiday_file(parsed) == SHIPPED.read_text(encoding="utf-8")


def test_names_come_from_the_entries_own_lines_only() -> None:
    parsed = parse_holiday_file(HAND_WRITTEN)
    assert [(str(e.first), e.days, e.name) for e in parsed.entries] == [
        ("2027-01-01", 1, "New Year's Day"),
        ("2027-02-05", 3, ""),
        ("2027-10-01", 3, "National Day"),
        ("2027-12-25", 1, ""),
    ]
    assert parsed.header == ["# Our holidays.", "# Kept by the operations desk."]


def test_written_atomically_and_read_back_by_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(HAND_WRITTEN)
    path.chmod(0o640)
    holidays = Holidays.from_file(path)
    current = read_holiday_file(path)
    added = HolidayEntry(date(2027, 5, 1), date(2027, 5, 3), "Labour Day")
    write_holiday_file(path, HolidayFile(current.header, [*current.entries, added]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holidays.yaml"]
    assert path.stat().st_mode & 0o777 == 0o640
    assert date(2027, 5, 2) not in holidays  # until the calendar reads the file again
    assert date(2027, 5, 2) in holidays.reload() and date(2027, 5, 2) in holidays
    text = path.read_text()
    assert text.startswith("# Our holidays.\n# Kept by the operations desk.\nholidays:\n")
    assert "a comment line of its own" not in text  # other comments are not kept
    assert read_holiday_file(path).entries[2] == added  # in date order, named
    write_holiday_file(path, HolidayFile([], []))
    assert load_holidays(path) == frozenset() and path.read_text().endswith("holidays: []\n")


def test_a_missing_file_is_an_empty_calendar(tmp_path: Path) -> None:
    assert read_holiday_file(tmp_path / "none.yaml") == HolidayFile([], [])


NOT_CALENDARS = [
    "holidays: [\n",
    "holidays: 2027-01-01\n",
    "holidays: [tomorrow]\n",
    "holidays: [2027-01-01 10:00:00]\n",
    "holidays: [{from: 2027-01-01}]\n",
    "holidays: []\ngreetings: []\n",
    "- 2027-01-01\n",
]


@pytest.mark.parametrize("text", NOT_CALENDARS)
def test_a_file_that_is_not_a_calendar_is_refused(text: str) -> None:
    with pytest.raises(HolidayFileError):
        parse_holiday_file(text)


@pytest.mark.parametrize("text", NOT_CALENDARS)
def test_the_engine_refuses_what_the_api_refuses_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text("holidays: [2027-01-01]\n")
    holidays = Holidays.from_file(path)
    path.write_text(text)
    with pytest.raises(HolidayFileError, match=re.escape(str(path))):
        load_holidays(path)
    with pytest.raises(ValueError, match=re.escape(str(path))):
        holidays.reload()
    assert holidays.days == {date(2027, 1, 1)}  # a bad file changes nothing
