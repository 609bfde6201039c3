"""A local demo of the ACD: SIPp agents receive calls by skill and priority.

With ``make run`` going in another terminal (Asterisk and the engine, demo hotline):

    .venv/bin/python -m testbed.acd_demo

1. Three agents log in from their phones with the feature code ``*11``:
   8001 (vip 5, gotone 5, general 4), 8009 (gotone 4, general 3), 8021 (general 2).
2. Their SIPp phones start: each rings 1 s, answers, talks a few seconds, hangs up.
3. Four callers dial 10086 and press 0 one second apart: an Easy Own subscriber (shared
   pool), a GoTone subscriber, a VIP, and a caller from another network (shared pool).
4. The table shows who got which caller, after how long, and what the agent heard first
   (the whisper). Then the agents log out (``*12``).

What to look for: the VIP goes to 8001 (the only VIP seat, ``most-skilled``); the GoTone
caller to 8009; the shared-pool callers to 8021, the closest fit (general 2 before 3),
one after the other, the second after 8021's wrap-up. Run ``ivr-engine acd agents`` and
``ivr-engine calls`` to see the states and the journal afterwards.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

from testbed.sipp import answer_as_agent, place_call

AGENTS = ("8001", "8009", "8021")
CALLERS = (  # caller, who they are
    ("15800158000", "Easy Own (shared pool)"),
    ("13900139000", "GoTone"),
    ("13800138000", "GoTone VIP"),
    ("13300133000", "other network (shared pool)"),
)


def _ivr_engine(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ivr_engine", *args], capture_output=True, text=True, check=False
    )
    return done.stdout


async def _feature(agent: str, code: str) -> None:
    result = await place_call(agent, code, max_duration=15)
    print(f"  agent {agent} dials {code}: {'ok' if result.successful else 'FAILED'}")


async def _agent_phone(agent: str, calls: int) -> list[str]:
    """The agent's phone answering ``calls`` calls in a row; the callers it got."""
    got: list[str] = []
    for _ in range(calls):
        phone = await answer_as_agent(agent, answer_after=1.0, talk_for=4.0, max_duration=120)
        result = await phone.result(timeout=120)
        if not result.answered:
            break
        got.append(result.caller)
    return got


async def main() -> None:
    print("agents log in with *11")
    for agent in AGENTS:
        await _feature(agent, "*11")
    phones = [asyncio.create_task(_agent_phone(a, 2 if a == "8021" else 1)) for a in AGENTS]
    await asyncio.sleep(1.0)
    print("callers dial 10086 and press 0")
    calls = []
    for n, (caller, _) in enumerate(CALLERS):
        call = place_call(caller, "10086", keys=[(1.0, "0")], max_duration=90)
        calls.append(asyncio.create_task(call))
        await asyncio.sleep(1.0 if n < len(CALLERS) - 1 else 0)
    await asyncio.gather(*calls)
    got = dict(zip(AGENTS, await asyncio.gather(*phones), strict=True))
    journal = json.loads(_ivr_engine("calls", "--json", "--limit", "10") or "[]")
    print(f"\n{'caller':<13} {'who':<28} {'agent':<6} {'waited':>7}  what the ACD did")
    for caller, who in CALLERS:
        agent = next((a for a, callers in got.items() if caller in callers), "-")
        empty: dict[str, Any] = {"steps": []}
        record = next((r for r in journal if r["caller"] == caller), empty)
        acd = [(s["offset_ms"], s["detail"]) for s in record["steps"] if s["kind"] == "acd"]
        offers = [ms for ms, detail in acd if detail.startswith("offer")]
        waited = f"{(offers[-1] - acd[0][0]) / 1000:.1f}s" if acd and offers else "-"
        print(f"{caller:<13} {who:<28} {agent:<6} {waited:>7}  {'; '.join(d for _, d in acd)}")
    print("\nagents log out with *12")
    for agent in AGENTS:
        await _feature(agent, "*12")


if __name__ == "__main__":
    asyncio.run(main())
