"""ivr-engine simulate walks the demo hotline in the terminal, on real demo data (SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr_engine.cli.main import main
from ivr_engine.data.demo import load_demo
from ivr_engine.db_schema import upgrade


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}"
    import asyncio

    asyncio.run(upgrade(url))
    asyncio.run(load_demo(url))
    return {"IVR_ENGINE_DATABASE__URL": url}


def _simulate(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, ["simulate", *args], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_gotone_caller_hears_the_balance(demo_env: dict[str, str]) -> None:
    out = _simulate(demo_env, "--caller", "13900139000", "--keys", "1,1,*,-,-")
    assert "尊敬的全球通客户" in out
    assert "[branch] cm-screen case 3 -> cm-welcome-gotone" in out
    assert "[query] balance: balance=45.80" in out
    assert "您的账户余额为 四 十 五 元 八 角" in out
    assert "call ended: silent-caller" in out


def test_blacklisted_caller_is_refused(demo_env: dict[str, str]) -> None:
    out = _simulate(demo_env, "--caller", "13400134000", "--keys", "")
    assert "对不起，您的号码暂时无法使用本服务" in out
    assert "call ended: refused" in out


def test_weekend_wishes_with_a_given_time(demo_env: dict[str, str]) -> None:
    friday_evening = "2026-11-27T19:30:00+08:00"
    out = _simulate(demo_env, "--caller", "15000150000", "--keys", "0", "--at", friday_evening)
    assert "[branch] cm-occasion case 2 -> cm-weekend-wishes" in out
    assert "-> dialplan IVR_TRANSFER=8003" in out


def test_unknown_number_is_a_clear_error(demo_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["simulate", "--dnis", "12345"], env=demo_env)
    assert result.exit_code == 1
    assert "no menu answers 12345" in result.output
