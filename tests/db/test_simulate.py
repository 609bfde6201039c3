"""ivr-engine simulate walks the demo hotline in the terminal, on real demo data (SQLite)."""

from __future__ import annotations

import time
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
    acd_off = {**demo_env, "IVR_ENGINE_ACD__ENABLED": "false"}  # the seat rings: IVR_TRANSFER
    out = _simulate(acd_off, "--caller", "15000150000", "--keys", "0", "--at", friday_evening)
    assert "[branch] cm-occasion case 2 -> cm-weekend-wishes" in out
    assert "-> dialplan IVR_TRANSFER=8003" in out


def test_unknown_number_is_a_clear_error(demo_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["simulate", "--dnis", "12345"], env=demo_env)
    assert result.exit_code == 1
    assert "no menu answers 12345" in result.output


def test_an_agent_later_than_a_day_is_refused(demo_env: dict[str, str]) -> None:
    """A wait without end would print announcements without end: refused at the door."""
    args = ["simulate", "--keys", "1,0", "--agent-after", "1e9"]
    result = CliRunner().invoke(main, args, env=demo_env)
    assert result.exit_code == 2
    assert "--agent-after" in result.output and "86400" in result.output


# -- queue nodes: a simulated desk on config/acd.yaml, a simulated clock ------------------

POSITION_1_WAIT_1 = "  ♪ 您现在排在第 一 位， 预计等待时间 一 分钟，请您耐心等候。"


def _lines_from(out: str, first: str) -> list[str]:
    lines = out.splitlines()
    return lines[lines.index(first) :]


def test_a_caller_waits_for_an_agent_then_takes_the_survey(demo_env: dict[str, str]) -> None:
    out = _simulate(demo_env, "--dnis", "10000", "--keys", "1,1")  # faults, then satisfied
    assert _lines_from(out, "  [acd] enter faults priority=5") == [
        "  [acd] enter faults priority=5",
        "  ... 3 s of music on hold",
        "  [acd] announce position=1 wait=1min",
        POSITION_1_WAIT_1,
        "  ... 17 s of music on hold",
        "  [acd] offer 8037",  # closest fit: the agents with faults 1 (8037-8040) go first
        "  (agent 8037 answers, talks with the caller, then hangs up)",
        "  [acd] talked 8037",
        "  [outcome] agent",
        "  [node] ct-survey (survey)",
        "  ♪ 请对本次服务进行评价，满意请按1，一般请按2，不满意请按3。",
        "  caller presses 1",
        "  [survey] satisfied",
        "  ♪ 感谢您的评价。",
        "  [node] ct-goodbye (hangup)",
        "  ♪ 感谢您的来电，再见。",
        "  (engine hangs up)",
        "call ended: agent; keys pressed: 11",
    ]
    assert "IVR_TRANSFER" not in out


def test_the_wait_is_simulated_not_slept(demo_env: dict[str, str]) -> None:
    started = time.monotonic()
    out = _simulate(demo_env, "--dnis", "10000", "--keys", "1,1", "--agent-after", "500")
    assert time.monotonic() - started < 60  # 500 s on hold, had it really waited
    assert "  [acd] talked 8029" in out  # past the faults queue's escalation to general 1
    assert out.count("  [acd] announce position=1") == 17  # at 3 s, then every 30 s


def test_past_max_wait_the_caller_takes_a_callback(demo_env: dict[str, str]) -> None:
    out = _simulate(demo_env, "--dnis", "10000", "--keys", "1,1", "--agent-after", "700")
    assert _lines_from(out, "  [acd] callback offered")[:6] == [
        "  [acd] callback offered",
        "  ♪ 坐席正忙。如需稍后回电到您的来电号码，请按1；"
        "回电到其他号码，请按2；继续等候请按井号键。",
        "  caller presses 1",
        "  [acd] callback to 13900139000",
        "  ♪ 好的，我们会尽快给您回电。感谢您的来电，再见。",
        "  [outcome] callback",
    ]
    assert "call ended: callback" in out


def test_a_vip_past_max_wait_overflows_to_the_shared_pool(demo_env: dict[str, str]) -> None:
    vip = ["--caller", "13800138000", "--keys", "7,7,7", "--agent-after", "400"]
    out = _simulate(demo_env, *vip)  # three wrong keys: to the caller's agent seat
    assert "  [acd] enter vip priority=10" in out
    after = _lines_from(out, "  [acd] overflow to general")
    assert "  [acd] talked 8029" in after  # the general queue's closest fit
    assert "call ended: agent" in out


ONLY_GENERAL = """\
version: 1
skills: {general: the shared pool}
queues:
  general: {requirements: {general: 1}}
agents:
  - {ids: 8001, skills: {general: 1}}
"""


def _assert_rang_the_faults_seat(out: str) -> None:
    assert "  [queue] ct-faults skills=faults:1 priority=5" in out
    assert "[acd]" not in out
    assert "  -> dialplan IVR_SKILLS=faults:1" in out
    assert "  -> dialplan IVR_TRANSFER=8005" in out
    assert "call ended: agent" in out


def test_a_queue_the_acd_does_not_know_rings_the_nodes_seat(
    demo_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "only-general.yaml"
    config.write_text(ONLY_GENERAL)
    env = {**demo_env, "IVR_ENGINE_ACD__CONFIG": str(config)}
    _assert_rang_the_faults_seat(_simulate(env, "--dnis", "10000", "--keys", "1"))


def test_with_the_acd_off_queue_nodes_ring_their_seat(demo_env: dict[str, str]) -> None:
    env = {**demo_env, "IVR_ENGINE_ACD__ENABLED": "false"}
    _assert_rang_the_faults_seat(_simulate(env, "--dnis", "10000", "--keys", "1"))
