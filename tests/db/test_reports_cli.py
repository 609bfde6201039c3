"""``ivr-engine report NAME`` on a SQLite database with the report tests' journal and ACD
day (the figures themselves are checked in the other report tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ground.database import make_engine
from ivr_engine.cli.main import main
from ivr_engine.db_schema import upgrade
from tests.db.conftest import run_isolated, sqlite_url
from tests.db.reports_support import add_acd_day, add_journal


async def _fill(url: str) -> None:
    await upgrade(url)
    engine = make_engine(url, connect_timeout=5, command_timeout=10)
    try:
        await add_journal(engine)
        await add_acd_day(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    url = sqlite_url(tmp_path / "engine.db")
    run_isolated(_fill(url))
    path = tmp_path / "engine.yaml"
    path.write_text(
        f"database: {{url: '{url}'}}\ncalendar: {{fixed_time: '2025-06-18T12:00:00+08:00'}}\n"
    )
    return path


def run(settings: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--settings", str(settings), "report", *args])
    return result.exit_code, result.output


def test_table_csv_and_json(settings_file: Path) -> None:
    code, out = run(settings_file, "ivr", "--from", "2025-06-16", "--to", "2025-06-16")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("IVR containment, 2025-06-16 00:00 to 2025-06-17 00:00")
    assert lines[4].split()[:5] == ["2025-06-16", "all", "7", "3", "42.9"]
    assert any(line.startswith("* Contained:") for line in lines)
    code, out = run(settings_file, "agents", "--from", "2025-06-16", "--format", "csv")
    assert code == 0, out
    assert out.splitlines()[0].startswith("agent,name,calls,talk_s,")
    code, out = run(
        settings_file, "queues", "--from", "2025-06-16", "--to", "2025-06-16",
        "--interval", "day", "--queue", "general", "--format", "json",
    )  # fmt: skip
    assert code == 0, out
    body = json.loads(out)
    assert body["rows"] == [body["rows"][0]]
    assert (body["rows"][0]["offered"], body["rows"][0]["service_level_pct"]) == (8, 40.0)
    assert any(note.startswith("Service level: answered within 20 s") for note in body["notes"])


def test_png_goes_to_a_file(settings_file: Path, tmp_path: Path) -> None:
    code, out = run(settings_file, "funnel", "--from", "2025-06-16", "--format", "png")
    assert code == 2 and "--format png needs --out FILE" in out
    image = tmp_path / "funnel.png"
    code, out = run(settings_file, "funnel", "--from", "2025-06-16", "--format", "png",
                    "--out", str(image))  # fmt: skip
    assert code == 0, out
    assert image.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    code, out = run(settings_file, "repeat-callers", "--format", "png", "--out", str(image))
    assert code == 1 and "the repeat-callers report has no chart" in out


def test_options_that_do_not_apply_and_bad_dates(settings_file: Path) -> None:
    code, out = run(settings_file, "agents", "--queue", "general")
    assert code == 2 and "--queue does not apply to the agents report" in out
    code, out = run(settings_file, "survey", "--from", "2025-06-20", "--to", "2025-06-01")
    assert code == 2 and "the period ends (2025-06-01) before it starts (2025-06-20)" in out
    code, out = run(settings_file, "fluctuation", "--from", "16/06/2025")
    assert code == 2 and "--from:" in out


def test_a_database_that_is_not_there(tmp_path: Path) -> None:
    path = tmp_path / "engine.yaml"
    path.write_text(f"database: {{url: '{sqlite_url(tmp_path / 'none.db')}'}}\n")
    code, out = run(path, "ivr")
    assert code == 1 and "no database at" in out
    assert not (tmp_path / "none.db").exists()
