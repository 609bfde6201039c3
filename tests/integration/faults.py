"""What the fault tests (``test_faults_*.py``) share: callers that stay in the IVR or in a
queue until the fault comes, polling without blocking the event loop (SIPp runs on it),
and checks on what the journal, the ACD and Asterisk say afterwards.

Callers are numbers of no demo subscriber ("other network"): their 0 goes to the shared
pool's queue (general), which agents 8021-8028 (general:2) take.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from testbed.engine import EngineProcess
from testbed.observer import AmiObserver
from testbed.sipp import place_call
from testbed.sipp_result import SippResult

T = TypeVar("T")

ZERO = (1.0, "0")  # 0 early in the welcome (which it stops): the shared pool's queue
BUSY_AGENT_STATES = frozenset({"reserved", "on-call"})


def menu_keys(seconds: float, every: float = 3.0) -> list[tuple[float, str]]:
    """``#`` (repeat the menu) every ``every`` seconds for ``seconds``: a caller who stays
    in the main menu, never silent long enough to be let go."""
    return [(1.0 + n * every, "#") for n in range(int(seconds / every))]


def in_menus(caller: str, *, stay: float = 90.0) -> asyncio.Task[SippResult]:
    """A caller walking the 10086 main menu until Asterisk or the engine ends the call."""
    return asyncio.ensure_future(
        place_call(caller, "10086", keys=menu_keys(stay), max_duration=stay + 30)
    )


def asks_for_agent(caller: str, *, stay: float = 90.0) -> asyncio.Task[SippResult]:
    """A caller pressing 0 in the welcome, then waiting (or talking) until the end."""
    return asyncio.ensure_future(place_call(caller, "10086", keys=[ZERO], max_duration=stay + 30))


async def off_loop(work: Callable[[], T]) -> T:
    """A blocking probe, journal or observer call, in a worker thread."""
    return await asyncio.to_thread(work)


async def eventually(
    check: Callable[[], T | None], timeout: float, what: str, every: float = 0.3
) -> T:
    """Poll ``check`` (in a thread) until it returns something other than None/False."""
    deadline = time.monotonic() + timeout
    while True:
        found = await off_loop(check)
        if found is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(every)


def live_hotline_calls(engine: EngineProcess) -> int:
    """The hotline sessions the engine is serving now (its /health), 0 if it is away."""
    health = engine.health()
    if health is None:
        return 0
    return int(health["agi"].get("live_by_route", {}).get("hotline", 0))


def port_open(host: str, port: int) -> bool:
    """Whether a TCP connection to ``host:port`` is accepted right now."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def records_of(
    records: Iterable[dict[str, Any]], callers: Iterable[str], since: datetime
) -> dict[str, list[dict[str, Any]]]:
    """The journal records (started at or after ``since``) of each caller."""
    wanted = set(callers)
    found: dict[str, list[dict[str, Any]]] = {caller: [] for caller in wanted}
    for record in records:
        if record["caller"] in wanted and datetime.fromisoformat(record["started_at"]) >= since:
            found[record["caller"]].append(record)
    return found


def one_finished_record_each(
    records: Iterable[dict[str, Any]], callers: Iterable[str], since: datetime
) -> dict[str, dict[str, Any]] | None:
    """Each caller's single finished record, or None while some are missing or open.
    More than one record for a caller fails at once: a call is journalled exactly once."""
    by_caller = records_of(records, callers, since)
    for caller, found in by_caller.items():
        assert len(found) <= 1, f"{caller} has {len(found)} records: {found}"
    if any(len(found) != 1 or not found[0]["ended_at"] for found in by_caller.values()):
        return None
    return {caller: found[0] for caller, found in by_caller.items()}


def fallback_taken(observer: AmiObserver, channel: str, destination: str = "8001") -> str:
    """Why the channel did not take the dialplan's fallback (apology, then a Dial of the
    fallback destination); empty when it did."""
    apps = observer.applications(channel)
    if ("Playback", "hotline/apology-fallback") not in apps:
        return f"{channel}: no apology: {apps}"
    dials = [
        e.get("DestChannel") or ""
        for e in observer.events("DialBegin", Channel=channel)
        if (e.get("DestChannel") or "").startswith(f"PJSIP/{destination}-")
    ]
    after_apology = apps[apps.index(("Playback", "hotline/apology-fallback")) :]
    if not dials or not any(app == "Dial" for app, _ in after_apology):
        return f"{channel}: the fallback {destination} was not dialled: {apps}"
    return ""


__all__ = [
    "BUSY_AGENT_STATES",
    "ZERO",
    "asks_for_agent",
    "eventually",
    "fallback_taken",
    "in_menus",
    "live_hotline_calls",
    "menu_keys",
    "off_loop",
    "one_finished_record_each",
    "port_open",
    "records_of",
]
