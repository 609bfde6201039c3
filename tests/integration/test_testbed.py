"""The test bed and its harness, proven against the real Asterisk without the IVR engine.

Uses the test-only dialplan dialplans/testbed.conf:
  7000  answer, Read() digits, UserEvent(TestbedDigits, Digits, Caller), hang up
  7001  answer, wait for the caller to hang up
  7002  Dial(PJSIP/8001,10): agent 8001 is a SIPp UAS on 127.0.0.1:5101
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from testbed.asterisk import (
    CTL,
    PROVISION,
    STATUS_RUNNING,
    STATUS_STOPPED,
    asterisk_status,
    mounts_under_root,
)
from testbed.observer import AmiObserver
from testbed.sipp import answer_as_agent, place_call

pytestmark = [
    pytest.mark.asterisk,
    # pyst2 0.5.1 still calls threading's deprecated camelCase aliases from its threads.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:asterisk.manager"),
]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=120, check=False, env=env
    )


def _pid_of(status_output: str) -> str:
    match = re.search(r"pid (\d+)", status_output)
    assert match, status_output
    return match.group(1)


async def test_dtmf_presses_and_caller_number(observer: AmiObserver) -> None:
    mark = observer.mark()
    result = await place_call("13800138000", "7000", keys=[(1.0, "5"), (1.6, "7")])

    assert result.successful, result.describe()
    assert result.answered and result.far_hangup and not result.we_hung_up, result.describe()
    assert result.hangup_cause == 16, result.describe()
    event = await observer.wait_for_event_async(
        "UserEvent", 5, since=mark, UserEvent="TestbedDigits", Caller="13800138000"
    )
    assert event["Digits"] == "57"
    assert event["CallerIDNum"] == "13800138000"
    channel = event["Channel"]
    assert channel.startswith("PJSIP/callers-")
    apps = [app for app, _ in observer.applications(channel, since=mark)]
    assert apps == ["NoOp", "Answer", "Read", "UserEvent", "Hangup"]
    hangup = observer.hangup(channel, since=mark)
    assert hangup["Cause"] == "16"  # the dialplan's Hangup(): normal clearing
    assert not observer.far_end_hung_up(channel, since=mark)


async def test_caller_hangs_up(observer: AmiObserver) -> None:
    mark = observer.mark()
    result = await place_call("13800138001", "7001", hangup_after=1.0)

    assert result.successful, result.describe()
    assert result.we_hung_up and not result.far_hangup, result.describe()
    assert result.duration is not None and 0.9 <= result.duration <= 2.0, result.describe()
    assert result.sent[-1].startswith("BYE "), result.describe()
    (channel,) = observer.channels_of_caller("13800138001", since=mark)
    await observer.wait_for_event_async("Hangup", 5, since=mark, Channel=channel)
    assert observer.far_end_hung_up(channel, since=mark)  # the caller's BYE, not the dialplan
    assert ("Wait", "300") in observer.applications(channel, since=mark)


async def test_dial_answered_by_sipp_agent(observer: AmiObserver) -> None:
    mark = observer.mark()
    agent = await answer_as_agent("8001", answer_after=0.5)
    async with agent:
        caller = await place_call("13800138002", "7002", hangup_after=2.0)
        answered = await agent.result(timeout=15)

    assert caller.successful, caller.describe()
    assert caller.we_hung_up, caller.describe()
    assert answered.successful, answered.describe()
    assert answered.answered and answered.far_hangup, answered.describe()
    assert answered.caller == "13800138002", answered.describe()  # the number shown to agents
    dial_end = await observer.wait_for_event_async(
        "DialEnd", 5, since=mark, CallerIDNum="13800138002"
    )
    assert dial_end["DialStatus"] == "ANSWER"
    assert dial_end["DestChannel"].startswith("PJSIP/8001-")


async def test_unanswered_call_is_cancelled_on_both_sides(observer: AmiObserver) -> None:
    mark = observer.mark()
    agent = await answer_as_agent("8001", answer_after=10, expect_answer=False)
    async with agent:
        caller = await place_call("13800138003", "7002", answer_timeout=1.5, expect_answer=False)
        ringing = await agent.result(timeout=10)

    assert caller.successful, caller.describe()
    assert caller.cancelled and caller.final_status == 487, caller.describe()
    assert ringing.successful, ringing.describe()
    assert ringing.cancelled and not ringing.answered, ringing.describe()
    dial_end = await observer.wait_for_event_async(
        "DialEnd", 5, since=mark, CallerIDNum="13800138003"
    )
    assert dial_end["DialStatus"] == "CANCEL"


async def test_concurrent_callers_keep_their_digits(observer: AmiObserver) -> None:
    mark = observer.mark()
    callers = {f"1390000{i:04d}": [(0.5 + 0.1 * i, str(i)), (1.5, str(9 - i))] for i in range(4)}
    results = await asyncio.gather(
        *(place_call(number, "7000", keys=keys) for number, keys in callers.items())
    )
    for result in results:
        assert result.successful, result.describe()
    for number, keys in callers.items():
        event = await observer.wait_for_event_async(
            "UserEvent", 5, since=mark, UserEvent="TestbedDigits", Caller=number
        )
        assert event["Digits"] == "".join(key for _, key in keys)


def test_provision_is_idempotent(asterisk: None) -> None:
    started = time.monotonic()
    done = _run(str(PROVISION))
    elapsed = time.monotonic() - started

    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing to do" in done.stdout
    assert elapsed < 15


def test_start_when_running_is_a_no_op(asterisk: None) -> None:
    before = _run(str(CTL), "status")
    assert before.returncode == STATUS_RUNNING, before.stdout + before.stderr

    done = _run(str(CTL), "start")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "already running" in done.stdout

    after = _run(str(CTL), "status")
    assert after.returncode == STATUS_RUNNING
    assert _pid_of(after.stdout) == _pid_of(before.stdout)
    assert "System uptime" in after.stdout


def test_status_and_cli_of_a_stopped_or_missing_root(asterisk: None, tmp_path: Path) -> None:
    env = {**os.environ, "ASTERISK_ROOT": str(tmp_path / "no-root")}
    status = _run(str(CTL), "status", env=env)
    assert status.returncode == STATUS_STOPPED
    assert status.stdout.strip() == "stopped"

    cli = _run(str(CTL), "cli", "core show uptime", env=env)
    assert cli.returncode != 0
    start = _run(str(CTL), "start", env=env)
    assert start.returncode == 1
    assert "asterisk/provision.sh" in start.stderr


def test_cli_and_modules(asterisk: None) -> None:
    modules = _run(str(CTL), "cli", "module show")
    assert modules.returncode == 0, modules.stderr
    for module in (
        "chan_pjsip.so",
        "res_agi.so",
        "app_queue.so",
        "res_pjsip_endpoint_identifier_user.so",
        "res_pjsip_endpoint_identifier_ip.so",
        "res_musiconhold.so",
        "app_userevent.so",
    ):
        assert re.search(rf"^{re.escape(module)}\s.*Running", modules.stdout, re.MULTILINE), module
    contacts = _run(str(CTL), "cli", "pjsip show contacts").stdout
    assert "8001/sip:8001@127.0.0.1:5101" in contacts
    assert "8050/sip:8050@127.0.0.1:5150" in contacts


def test_stop_unmounts_and_start_again(asterisk: None) -> None:
    stop = _run(str(CTL), "stop")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert asterisk_status() == STATUS_STOPPED
    assert mounts_under_root() == []
    again = _run(str(CTL), "stop")
    assert again.returncode == 0 and "not running" in again.stdout

    start = _run(str(CTL), "start")
    assert start.returncode == 0, start.stdout + start.stderr
    assert asterisk_status() == STATUS_RUNNING
    mounted = mounts_under_root()
    assert any(m.endswith("/etc/asterisk/dialplans") for m in mounted), mounted
    assert any(m.endswith("/zh/hotline") for m in mounted), mounted
