"""China Mobile's 10086 demo hotline (config/menus/10086.yaml) through the real Asterisk.

Each test places SIPp calls from the demo subscribers (config/demo/subscribers.yaml) and
checks what the caller heard (the prompts the engine streamed on the caller's channel, as
Asterisk reports them) and where the call went (the journal record, the ACD's Dial of the
agent). Calls for an agent go through the ACD: the test logs in the agent it expects (the
`acd` fixture has every agent logged out first).

Keys are sent at fixed times after the answer. Welcomes and menus take keys (the key stops
the prompt), so the tests key ahead early; keys meant for after a prompt that does not take
keys are timed from the prompt's real length (testbed/prompt_timing.py).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from ivr_engine.calls.call import ALL_KEYS
from testbed.acd import AcdProbe
from testbed.engine import EngineProcess
from testbed.observer import AmiObserver
from testbed.prompt_timing import MARGIN, digit_keys, last_key_time, seconds_of
from testbed.sipp import answer_as_agent, place_call
from tests.integration.acd_calls import assert_put_through, talk_for
from tests.integration.conftest import OtherEngine
from tests.integration.hotline import (
    dialled_apps,
    explain,
    heard,
    money,
    now,
    occasion_prompts,
    steps,
    subscriber,
    timeline,
    unused_card,
)

pytestmark = pytest.mark.asterisk

KEY = 0.3  # a key is sent for 0.2 s; the engine has it about this long after it started
FIRST = 1.0  # the first key: early in the welcome, which it stops
SECOND = 2.5  # the second key: early in the menu the first key opened
HASHING = 0.5  # the engine checks a password / card (scrypt) before it answers


async def _agent_call(
    caller: str, agent: str, queue: str, keys: list[tuple[float, str]]
) -> tuple[Any, Any]:
    """A call that ends at an agent of ``queue``: the agent answers, hears the whisper,
    talks a moment, hangs up."""
    async with await answer_as_agent(agent, answer_after=0.5, talk_for=talk_for(queue)) as phone:
        result = await place_call(caller, "10086", keys=keys, max_duration=60)
        agent_result = await phone.result(timeout=60)
    assert result.successful and result.answered and result.far_hangup, result.describe()
    assert agent_result.answered and agent_result.caller == caller, agent_result.describe()
    return result, agent_result


async def test_blacklisted_caller_is_refused_and_the_engine_hangs_up(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    caller, since = "13400134000", now()
    result = await place_call(caller, "10086", max_duration=30)
    assert result.successful and result.far_hangup, result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, record["channel"]) == ["cm-refused"], why
    assert (record["outcome"], record["hangup_side"]) == ("refused", "engine"), why
    assert "blacklisted=True" in steps(record, "lookup")[0], why
    assert steps(record, "branch") == ["cm-screen case 1 -> cm-refuse"], why
    assert not observer.far_end_hung_up(record["channel"])
    assert dialled_apps(observer, record["channel"]) == []


async def test_vip_presses_0_and_is_put_through_to_the_vip_seat(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    acd.log_in("8001")
    caller, since = "13800138000", now()
    await _agent_call(caller, "8001", "vip", [(FIRST, "0")])

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    channel = record["channel"]
    assert heard(observer, channel) == ["cm-welcome-vip", "cm-connecting-agent"], why
    assert (record["keys"], record["outcome"], record["hangup_side"]) == ("0", "agent", "engine")
    assert steps(record, "branch")[0] == "cm-screen case 2 -> cm-welcome-vip", why
    assert "cm-agent case 1 -> cm-seat-vip" in steps(record, "branch"), why
    assert steps(record, "queue") == ["cm-seat-vip skills=vip:1 priority=10"], why
    assert steps(record, "acd")[0] == "enter vip priority=10", why
    assert_put_through(observer, record, "8001", agi_port=engine.agi_port)


async def test_each_brand_hears_its_own_welcome(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    welcomes = {  # caller: (welcome, the cm-screen case that chose it)
        "13900139000": ("cm-welcome-gotone", "case 3"),
        "15000150000": ("cm-welcome-mzone", "case 4"),
        "15800158000": ("cm-welcome-easyown", "case 5"),
        "13300133000": ("cm-welcome-other", "default"),  # China Telecom: not a subscriber
        "14700147000": ("cm-welcome-vip", "case 2"),  # VIP by ARPU only
    }
    wishes = occasion_prompts()
    since = now()
    results = await asyncio.gather(
        *(
            place_call(
                caller,
                "10086",
                hangup_after=seconds_of(welcome, *wishes) + MARGIN + 0.4,
                max_duration=30,
            )
            for caller, (welcome, _) in welcomes.items()
        )
    )
    for result in results:
        assert result.successful and result.we_hung_up, result.describe()
    for caller, (welcome, case) in welcomes.items():
        record = engine.call_from(caller, since=since)
        why = explain(record, observer)
        assert heard(observer, record["channel"]) == [welcome, *wishes, "cm-main-menu"], why
        assert steps(record, "branch")[0] == f"cm-screen {case} -> {welcome}", why
        assert (record["outcome"], record["hangup_side"]) == ("caller-hangup", "caller"), why


async def test_gotone_balance_is_read_out_as_money(
    demo_data: EngineProcess, observer: AmiObserver
) -> None:
    engine, caller, since = demo_data, "13900139000", now()
    balance = str(subscriber(caller).balance)
    read_out = ["cm-your-balance", *money(balance)]
    hang_up = SECOND + KEY + seconds_of(*read_out) + MARGIN + 0.4
    result = await place_call(
        caller, "10086", keys=[(FIRST, "1"), (SECOND, "1")], hangup_after=hang_up
    )
    assert result.successful and result.we_hung_up, result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, record["channel"]) == [
        "cm-welcome-gotone",
        "cm-billing-menu",
        *read_out,
        "cm-billing-menu",
    ], why
    assert steps(record, "query") == [f"balance: balance={balance}"], why
    assert record["keys"] == "11", why


async def test_charge_query_from_another_province_is_refused(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    caller, since = "18800188000", now()  # a GoTone subscriber from Shanghai
    hang_up = SECOND + KEY + seconds_of("cm-not-local") + MARGIN + 0.4
    result = await place_call(
        caller, "10086", keys=[(FIRST, "1"), (SECOND, "1")], hangup_after=hang_up
    )
    assert result.successful and result.we_hung_up, result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, record["channel"]) == [
        "cm-welcome-gotone",
        "cm-billing-menu",
        "cm-not-local",
        "cm-main-menu",
    ], why
    assert "region=shanghai" in steps(record, "lookup")[0], why
    assert steps(record, "query-refused") == ["balance: not a local subscriber"], why
    assert steps(record, "query") == [], why


def _wrong_passwords(start: float, passwords: list[str]) -> tuple[list[tuple[float, str]], float]:
    """Keys for wrong passwords one after the other, each once the "wrong password" prompt
    after the previous one is over; returns (keys, time of the last key)."""
    keys: list[tuple[float, str]] = []
    at = start
    for password in passwords:
        keys += digit_keys(at, password)
        at = last_key_time(keys) + KEY + HASHING + seconds_of("cm-wrong-password") + MARGIN
    return keys, last_key_time(keys)


async def test_wrong_service_passwords_lock_the_number_across_calls(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    """lock_after=5: three wrong passwords fail the first call, two more in the second lock
    the number (agent), and a third call is locked before any password is asked."""
    caller = "13500135000"  # GoTone: locked callers go to the GoTone queue, agent 8002
    acd.log_in("8002")
    to_suspend = [(FIRST, "2"), (SECOND, "1")]  # 2 services, 1 suspend
    first_password = SECOND + KEY + 0.7  # stops "enter your password"

    # First call: three wrong passwords; the transaction fails, back to the main menu.
    since = now()
    keys, last = _wrong_passwords(first_password, ["000000", "111111", "222222"])
    hang_up = last + KEY + HASHING + seconds_of("cm-wrong-password", "cm-transaction-failed")
    result = await place_call(
        caller, "10086", keys=to_suspend + keys, hangup_after=hang_up + MARGIN + 0.4
    )
    assert result.successful and result.we_hung_up, result.describe()
    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, record["channel"]) == [
        "cm-welcome-gotone",
        "cm-services-menu",
        *["cm-enter-password", "cm-wrong-password"] * 3,
        "cm-transaction-failed",
        "cm-main-menu",
    ], why
    assert steps(record, "password-wrong") == [
        f"attempt {n}, {n} failures in all" for n in (1, 2, 3)
    ], why
    nodes = steps(record, "node")
    assert nodes[-2:] == ["cm-transaction-failed (play)", "cm-main (menu)"], why
    assert record["keys"] == "21" + "*" * 18, why  # the passwords are masked
    assert (record["outcome"], record["hangup_side"]) == ("caller-hangup", "caller"), why

    # Second call: two more wrong passwords reach lock_after=5: locked, then an agent.
    since = now()
    keys, _ = _wrong_passwords(first_password, ["333333", "444444"])
    await _agent_call(caller, "8002", "gotone", to_suspend + keys)
    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, record["channel"]) == [
        "cm-welcome-gotone",
        "cm-services-menu",
        "cm-enter-password",
        "cm-wrong-password",
        "cm-enter-password",
        "cm-password-locked",
        "cm-connecting-agent",
    ], why
    assert steps(record, "password-wrong") == [
        "attempt 1, 4 failures in all",
        "attempt 2, 5 failures in all",
    ], why
    assert steps(record, "queue") == ["cm-seat-gotone skills=gotone:1 priority=5"], why
    assert (record["outcome"], record["hangup_side"]) == ("agent", "engine"), why
    assert_put_through(observer, record, "8002")

    # Third call: locked before any password is asked. (8002 is in wrap-up after the
    # second call: it says ready at once, so that the caller need not wait.)
    acd.wait_state("8002", "wrap-up")
    acd.event("8002", "ready")
    since = now()
    await _agent_call(caller, "8002", "gotone", to_suspend)
    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, record["channel"]) == [
        "cm-welcome-gotone",
        "cm-services-menu",
        "cm-password-locked",
        "cm-connecting-agent",
    ], why
    assert steps(record, "password-locked") == ["5 failures"], why
    assert steps(record, "password-wrong") == [], why
    assert record["outcome"] == "agent", why
    assert_put_through(observer, record, "8002")


async def test_silent_caller_is_asked_once_then_let_go(
    engine: EngineProcess, observer: AmiObserver
) -> None:
    caller, since = "15800158000", now()
    result = await place_call(caller, "10086", max_duration=60)
    assert result.successful and result.far_hangup, result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    channel = record["channel"]
    assert heard(observer, channel) == [
        "cm-welcome-easyown",
        *occasion_prompts(),
        "cm-main-menu",
        "cm-can-you-hear-me",
        "cm-silent-goodbye",
    ], why
    assert (record["outcome"], record["hangup_side"]) == ("silent-caller", "engine"), why
    assert steps(record, "no-input") == ["cm-main #1", "cm-main #2"], why
    assert record["keys"] == "", why
    assert not observer.far_end_hung_up(channel)  # the engine hung up
    # The menu waits its 2 s timeout after each prompt before it goes on.
    played = {p.prompt: p for p in timeline(observer, channel)}
    menu, asked = played["cm-main-menu"], played["cm-can-you-hear-me"]
    goodbye = played["cm-silent-goodbye"]
    assert 1.8 <= asked.start - menu.end <= 2.6, why
    assert 1.8 <= goodbye.start - asked.end <= 2.6, why


async def test_card_top_up_reads_the_new_balance_and_journals_no_secret(
    demo_data: EngineProcess, observer: AmiObserver
) -> None:
    engine, caller, since = demo_data, "13900139000", now()
    password = "123456"  # the demo subscribers' service password
    card = unused_card("50")
    new_balance = str(subscriber(caller).balance + card.amount)
    card_keys = digit_keys(SECOND + KEY + 0.7, card.pin + "#")  # stops "enter the card"
    password_keys = digit_keys(last_key_time(card_keys) + KEY + 0.7, password)
    read_out = ["cm-topup-done", *money(new_balance)]
    hang_up = last_key_time(password_keys) + KEY + 2 * HASHING + seconds_of(*read_out)
    result = await place_call(
        caller,
        "10086",
        keys=[(FIRST, "1"), (SECOND, "4"), *card_keys, *password_keys],
        hangup_after=hang_up + MARGIN + 0.4,
    )
    assert result.successful and result.we_hung_up, result.describe()

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, record["channel"]) == [
        "cm-welcome-gotone",
        "cm-billing-menu",
        "cm-enter-card",
        "cm-enter-password",
        *read_out,
        "cm-billing-menu",
    ], why
    assert steps(record, "collected") == ["card=" + "*" * len(card.pin)], why
    assert steps(record, "password-ok") == ["attempt 1"], why
    assert steps(record, "topup") == ["ok=True reason=ok"], why
    assert record["keys"] == "14" + "*" * (len(card.pin) + len(password)), why

    # Neither the card PIN nor the password is anywhere in the journal record.
    # (Left out: times, whose microseconds could spell anything, and the escape digits
    # of interruptible prompts, "0123456789*#", which spell 123456.)
    times = {"at", "started_at", "ended_at"}
    texts = [str(v) for k, v in record.items() if k not in times | {"steps"}]
    texts += [str(v) for s in record["steps"] for k, v in s.items() if k not in times]
    texts = [t.replace(f'"{ALL_KEYS}"', "") for t in texts]
    for secret in (card.pin, password):
        assert not [t for t in texts if secret in t], why
    assert card.pin not in json.dumps(record)
    assert card.pin not in engine.log_path.read_text(errors="replace")


async def test_0_in_a_sub_menu_reaches_the_shared_seat(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    acd.log_in("8003")
    caller, since = "15000150000", now()  # M-Zone: no seat of its own
    await _agent_call(caller, "8003", "general", [(FIRST, "1"), (SECOND, "0")])

    record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, record["channel"]) == [
        "cm-welcome-mzone",
        "cm-billing-menu",
        "cm-connecting-agent",
    ], why
    assert "cm-agent default -> cm-seat-shared" in steps(record, "branch"), why
    assert steps(record, "queue") == ["cm-seat-shared skills=general:1 priority=0"], why
    assert (record["keys"], record["outcome"]) == ("10", "agent"), why
    assert steps(record, "acd")[0] == "enter general priority=0", why
    assert_put_through(observer, record, "8003")


@pytest.mark.parametrize(
    ("moment", "wishes", "case"),
    [
        pytest.param("2026-11-27T19:00:00+08:00", "cm-weekend-wishes", "case 2", id="friday-19h"),
        pytest.param("2026-10-01T10:00:00+08:00", "cm-holiday-wishes", "case 1", id="national-day"),
    ],
)
async def test_weekend_and_holiday_wishes_follow_the_welcome(
    other_engine: OtherEngine, observer: AmiObserver, moment: str, wishes: str, case: str
) -> None:
    caller = "15000150000"
    with other_engine({"IVR_ENGINE_CALENDAR__FIXED_TIME": moment}) as engine:
        since = now()
        hang_up = seconds_of("cm-welcome-mzone", wishes) + MARGIN + 0.4
        result = await place_call(caller, "10086", hangup_after=hang_up, max_duration=30)
        assert result.successful and result.we_hung_up, result.describe()
        record = engine.call_from(caller, since=since)
    why = explain(record, observer)
    assert heard(observer, record["channel"]) == ["cm-welcome-mzone", wishes, "cm-main-menu"], why
    assert f"cm-occasion {case} -> {wishes}" in steps(record, "branch"), why
