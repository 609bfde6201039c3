"""``ivr-engine data load-demo`` (the ``data`` click group on its own)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr_engine.cli.data import data
from ivr_engine.data.sql import SqlBackend


@pytest.fixture
def settings_file(tmp_path: Path, data_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "engine.yaml"
    path.write_text(f"database:\n  url: {data_db_url}\n")
    monkeypatch.setenv("IVR_ENGINE_SETTINGS", str(path))
    return path


async def vip_password_ok(url: str) -> bool:
    async with await SqlBackend.connect(url) as backend:
        return await backend.verify_password("13800138000", "888888")


def test_load_demo_twice(settings_file: Path, data_db_url: str) -> None:
    for _ in range(2):
        result = CliRunner().invoke(data, ["load-demo"])
        assert result.exit_code == 0, result.output
        assert "loaded 10 demo subscribers" in result.output
        assert "ivr-dev" not in result.output  # the password in the URL is hidden
    assert asyncio.run(vip_password_ok(data_db_url))


def test_a_bad_file_is_reported(settings_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("region: beijing\nsubscribers: [{number: '42'}]\n")
    result = CliRunner().invoke(data, ["load-demo", "--file", str(bad)])
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "bad.yaml" in result.output


def test_unreadable_settings_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IVR_ENGINE_SETTINGS", str(tmp_path / "missing.yaml"))
    result = CliRunner().invoke(data, ["load-demo"])
    assert result.exit_code == 1
    assert "cannot read settings" in result.output
