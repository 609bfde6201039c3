"""Security through the real Asterisk with SIPp callers, each on an engine of its own:

- a caller who calls too often is put on the blacklist and hears the refusal (10086's
  blacklist path), the entry is listed by the API with its reason, and counted in the
  metrics;
- a caller locked out by wrong service passwords is still locked after the engine is
  restarted (the failure count is in the database, not in the engine's memory).
"""

from __future__ import annotations

import asyncio
import re
import urllib.request

import pytest

from testbed.api import ApiClient
from testbed.engine import EngineProcess
from testbed.observer import AmiObserver
from testbed.prompt_timing import MARGIN, digit_keys, last_key_time, seconds_of
from testbed.sipp import place_call
from tests.integration.conftest import OtherEngine
from tests.integration.hotline import explain, heard, now, steps

pytestmark = pytest.mark.asterisk

KEY = 0.3  # a key is sent for 0.2 s; the engine has it about this long after it started
FIRST = 1.0  # the first key: early in the welcome, which it stops
SECOND = 2.5  # the second key: early in the menu the first key opened
HASHING = 0.5  # the engine checks a password (scrypt) before it answers

NUISANCE = {
    "IVR_ENGINE_NUISANCE__ENABLED": "true",
    "IVR_ENGINE_NUISANCE__MAX_CALLS": "2",
    "IVR_ENGINE_NUISANCE__WINDOW_MIN": "10",
    "IVR_ENGINE_NUISANCE__BLOCK_MIN": "30",
}


def _metric(engine: EngineProcess, name: str) -> float:
    url = f"http://127.0.0.1:{engine.http_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics"
    return float(match.group(1))


async def test_a_caller_calling_too_often_hears_the_refusal(
    other_engine: OtherEngine, observer: AmiObserver
) -> None:
    caller = "15000150000"  # M-Zone: welcomed by the M-Zone greeting until refused
    with other_engine(NUISANCE) as engine:
        for _ in range(2):  # the calls allowed: each hears the welcome, hangs up
            since = now()
            result = await place_call(caller, "10086", hangup_after=2.0)
            assert result.successful, result.describe()
            record = engine.call_from(caller, since=since)
            why = explain(record, observer)
            assert heard(observer, record["channel"])[0] == "cm-welcome-mzone", why
            assert steps(record, "nuisance") == [], why

        since = now()
        result = await place_call(caller, "10086", max_duration=30)
        assert result.successful and result.far_hangup, result.describe()
        record = engine.call_from(caller, since=since)
        why = explain(record, observer)
        assert heard(observer, record["channel"]) == ["cm-refused"], why
        assert (record["outcome"], record["hangup_side"]) == ("refused", "engine"), why
        assert steps(record, "nuisance")[0].startswith("nuisance: 2 calls in 10 min"), why
        assert "blacklisted=True" in steps(record, "lookup")[0], why

        api = ApiClient(engine)
        token = await asyncio.to_thread(api.token, "security-admin", "admin")
        status, listing = await asyncio.to_thread(api.request, "GET", "/blacklist", token)
        assert status == 200, listing
        entries = [(e["reason"], e["live"]) for e in listing["entries"] if e["number"] == caller]
        assert entries == [("nuisance: 2 calls in 10 min", True)], listing
        assert _metric(engine, "ivr_nuisance_blocks_total") == 1.0
        log = engine.log_path.read_text(errors="replace")
        assert "nuisance caller 150****0000 blacklisted until" in log
        assert caller not in log


def _wrong_passwords(start: float, passwords: list[str]) -> list[tuple[float, str]]:
    """Keys for wrong passwords one after the other, each once the "wrong password" prompt
    after the previous one is over."""
    keys: list[tuple[float, str]] = []
    at = start
    for password in passwords:
        keys += digit_keys(at, password)
        at = last_key_time(keys) + KEY + HASHING + seconds_of("cm-wrong-password") + MARGIN
    return keys


async def test_a_password_lockout_survives_an_engine_restart(
    other_engine: OtherEngine, observer: AmiObserver
) -> None:
    caller = "13500135000"  # GoTone, service password 123456
    to_suspend = [(FIRST, "2"), (SECOND, "1")]  # 2 services, 1 suspend
    first_password = SECOND + KEY + 0.7  # stops "enter your password"
    with other_engine({}) as engine:
        # Lock after three failures, so that one call of three wrong passwords locks.
        menu = engine.menus_dir / "10086.yaml"
        text = menu.read_text()
        edited = text.replace("    action: suspend\n", "    action: suspend\n    lock_after: 3\n")
        assert edited != text
        menu.write_text(edited)
        engine.stop()
        engine.start()

        since = now()
        keys = _wrong_passwords(first_password, ["000000", "111111", "222222"])
        hang_up = last_key_time(keys) + KEY + HASHING
        hang_up += seconds_of("cm-password-locked", "cm-connecting-agent") + MARGIN + 1.0
        result = await place_call(caller, "10086", keys=to_suspend + keys, hangup_after=hang_up)
        assert result.successful, result.describe()
        record = engine.call_from(caller, since=since)
        why = explain(record, observer)
        assert heard(observer, record["channel"])[:9] == [
            "cm-welcome-gotone",
            "cm-services-menu",
            *["cm-enter-password", "cm-wrong-password"] * 2,
            "cm-enter-password",
            "cm-password-locked",
            "cm-connecting-agent",
        ], why
        assert steps(record, "password-wrong") == [
            f"attempt {n}, {n} failures in all" for n in (1, 2, 3)
        ], why

        engine.stop()  # SIGTERM: the engine goes down ...
        engine.start()  # ... and comes back with nothing in memory

        since = now()
        hang_up = SECOND + KEY + seconds_of("cm-password-locked", "cm-connecting-agent") + 1.5
        result = await place_call(caller, "10086", keys=to_suspend, hangup_after=hang_up)
        assert result.successful, result.describe()
        record = engine.call_from(caller, since=since)
        why = explain(record, observer)
        assert heard(observer, record["channel"])[:4] == [
            "cm-welcome-gotone",
            "cm-services-menu",
            "cm-password-locked",
            "cm-connecting-agent",
        ], why
        assert steps(record, "password-locked") == ["3 failures"], why
        assert steps(record, "password-wrong") == [], why
