"""The benchmarked call: a GoTone subscriber calls the demo hotline, presses 1 (billing)
during the welcome and 1 (balance) during the billing menu, hears the balance read out as
money and the billing menu start again, and hangs up.

The engine takes it on 10086 (config/menus/10086.yaml, the demo subscriber's data); the
plain dialplan of bench/dialplan/hotline_baseline.conf takes the same call on 20086. This
module says what the caller does and hears, and checks afterwards that every call of a
run went that way: in the engine's journal, and in Asterisk's log for the dialplan.

A hotline's calls come from many numbers, each calling a few times at most (the engine
screens numbers that call too often as nuisance callers). The benchmark's callers are
20,000 copies of the demo subscriber 13900139000 under their own numbers (13910000000 on),
added to the benchmark engine's own database; every call of a run takes the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ivr_engine.data.demo import read_demo
from ivr_engine.speech.numbers import money_prompts
from testbed.asterisk import ASTERISK_ROOT
from testbed.engine import EngineProcess
from testbed.prompt_timing import seconds_of
from testbed.telephony.hearing import PromptIndex
from testbed.telephony.sip_caller import CallResult, Press

CALLER = "13900139000"  # the demo's ordinary GoTone subscriber, the callers' template
FIRST_NUMBER = 13910000000
CALLERS = 20_000
BALANCE = Decimal("45.80")  # what bench/dialplan/hotline_baseline.conf reads out
ENGINE_NUMBER = "10086"
BASELINE_NUMBER = "20086"
KEY_HOLD = 0.1  # seconds each key is held
FIRST_KEY = 1.0  # 1 during the welcome: billing
SECOND_KEY = 2.5  # 1 during the billing menu: balance
READ_OUT = ["cm-your-balance", *money_prompts(BALANCE, "zh")]
# The caller stays until the billing menu has played a moment after the read-out.
LISTEN = round(SECOND_KEY + KEY_HOLD + seconds_of(*READ_OUT) + 0.6, 1)
HEARD = ["cm-welcome-gotone", "cm-billing-menu", *READ_OUT, "cm-billing-menu"]
PRESSES = (Press("1", FIRST_KEY, KEY_HOLD), Press("1", SECOND_KEY, KEY_HOLD))
KEYS: tuple[tuple[float, str], ...] = tuple((p.at, p.key) for p in PRESSES)
MESSAGES = ASTERISK_ROOT / "var" / "log" / "asterisk" / "messages"
_BASELINE_DONE = re.compile(r"\] NOTICE\[.*: bench-baseline balance read out\s*$")


class CallerPool:
    """The benchmark's calling numbers, handed out in order, each once."""

    def __init__(self, first: int = FIRST_NUMBER, count: int = CALLERS) -> None:
        self.first, self.count, self.next = first, count, 0

    def take(self, n: int) -> list[str]:
        if self.next + n > self.count:
            self.next = 0  # a long run starts over: by then the first calls are long past
        numbers = [str(self.first + self.next + i) for i in range(n)]
        self.next += n
        return numbers

    def all(self) -> list[str]:
        return [str(self.first + i) for i in range(self.count)]


def add_callers(database: Path, numbers: Sequence[str], template: str = CALLER) -> None:
    """Copy the subscriber ``template`` under every number of ``numbers`` into the engine's
    SQLite database (after ``ivr-engine data load-demo``)."""
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(subscribers)")]
        if "number" not in columns:
            raise RuntimeError(f"{database}: no subscribers table")
        rest = [c for c in columns if c != "number"]
        db.executemany(
            f"INSERT OR REPLACE INTO subscribers (number, {', '.join(rest)}) "
            f"SELECT ?, {', '.join(rest)} FROM subscribers WHERE number = ?",
            [(number, template) for number in numbers],
        )
        copied = db.execute(
            "SELECT count(*) FROM subscribers WHERE number >= ? AND number <= ?",
            (min(numbers), max(numbers)),
        ).fetchone()[0]
    if copied < len(numbers):
        raise RuntimeError(f"only {copied} of {len(numbers)} callers added to {database}")


def check_demo_data() -> None:
    """The baseline reads out a fixed balance: it must be the demo subscriber's."""
    for subscriber in read_demo().subscribers:
        if subscriber.number == CALLER:
            if subscriber.balance != BALANCE:
                raise RuntimeError(
                    f"demo subscriber {CALLER} has balance {subscriber.balance}, the baseline "
                    f"dialplan reads out {BALANCE}: update bench/dialplan/hotline_baseline.conf"
                )
            return
    raise RuntimeError(f"{CALLER} is not a demo subscriber any more")


def prompt_index() -> PromptIndex:
    return PromptIndex.load([*HEARD, "cm-main-menu"])


def heard_as_expected(index: PromptIndex, call: CallResult) -> tuple[bool, str]:
    """Whether a sample caller heard the call's prompts in order; and what it heard."""
    if not call.ok:
        return False, f"call failed: {call.error}"
    names = index.names(call.packets)
    return names == HEARD, " > ".join(names) or "nothing"


def _engine_call_ok(record: dict[str, Any], callers: set[str]) -> bool:
    steps = record.get("steps") or []
    read_out_done = any(
        s["kind"] == "stream_file"
        and str(s["detail"]).startswith(f'"hotline/{READ_OUT[-1]}"')
        and "result=0" in str(s["detail"])
        for s in steps
    )
    queried = any(
        s["kind"] == "query" and s["detail"] == f"balance: balance={BALANCE}" for s in steps
    )
    menus = [s for s in steps if s["kind"] == "prompt" and s["detail"] == "cm-billing-menu"]
    return (
        record.get("caller") in callers
        and record.get("keys") == "11"
        and record.get("outcome") == "caller-hangup"
        and queried
        and read_out_done
        and len(menus) == 2
    )


async def engine_calls_ok(
    engine: EngineProcess,
    since: datetime,
    callers: Sequence[str],
    timeout: float = 30.0,
) -> tuple[int, int]:
    """(calls that went the whole way, calls journalled) among the engine's calls started
    at or after ``since``, one expected from each of ``callers``; waits for the journal
    writer until they are all there."""
    expected, numbers = len(callers), set(callers)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        records = await asyncio.to_thread(engine.recent_calls, expected + 200)
        mine = [
            r
            for r in records
            if r.get("ended_at") and datetime.fromisoformat(r["started_at"]) >= since
        ]
        if len(mine) >= expected or loop.time() > deadline:
            return sum(1 for r in mine if _engine_call_ok(r, numbers)), len(mine)
        await asyncio.sleep(0.5)


def messages_offset() -> int:
    try:
        return MESSAGES.stat().st_size
    except FileNotFoundError:
        return 0


def _count_baseline_done(offset: int) -> int:
    with MESSAGES.open("rb") as log:
        log.seek(offset)
        text = log.read().decode("utf-8", errors="replace")
    return sum(1 for line in text.splitlines() if _BASELINE_DONE.search(line))


async def baseline_calls_ok(offset: int, expected: int, timeout: float = 10.0) -> int:
    """How many dialplan calls finished the read-out since ``offset`` of Asterisk's log
    (waits up to ``timeout`` for the logger to catch up to ``expected``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        done = await asyncio.to_thread(_count_baseline_done, offset)
        if done >= expected or loop.time() > deadline:
            return done
        await asyncio.sleep(0.5)
