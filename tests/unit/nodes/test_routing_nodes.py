"""set, split, cap, goto, sub/return, transfer, queue, survey, hangup."""

from __future__ import annotations

from pathlib import Path

from tests.unit.nodes.support import MemoryBackend, run_menu

ROUTING = """
entries: {"10086": start}
nodes:
  start: {type: set, vars: {segment: retail}, language: en, next: enter}
  enter: {type: sub, call: info, next: capped}
  info: {type: play, prompts: [info], next: return}
  capped: {type: cap, name: promo, period: daily, limit: 2, next: shared, over: full}
  shared: {type: split, ratios: {east: 1, west: 1}}
  east: {type: goto, to: survey}
  west: {type: goto, to: survey}
  survey:
    type: survey
    prompts: [rate-us]
    answers: {"1": satisfied, "3": dissatisfied}
    thanks: [thanks]
    next: agent
  agent:
    type: queue
    prompts: [hold-on]
    skills: {billing: 2, vip: 1}
    priority: 7
    ring: "8002"
  full: {type: hangup, prompts: [try-later], outcome: capped}
"""


async def test_a_call_through_every_routing_node(tmp_path: Path) -> None:
    backend = MemoryBackend()
    result = await run_menu(tmp_path, ROUTING, ["1"], backend=backend)
    assert result.heard == ["info", "rate-us", "thanks", "hold-on"]
    assert result.caller.variables["CHANNEL(language)"] == "en"
    assert result.caller.variables["IVR_SKILLS"] == "billing:2,vip:1"
    assert result.caller.variables["IVR_PRIORITY"] == "7"
    assert result.caller.variables["IVR_TRANSFER"] == "8002"
    assert result.steps("survey") == ["satisfied"]
    assert result.record.outcome == "agent"
    assert len(result.steps("split")) == 1


async def test_cap_turns_calls_away_over_the_limit(tmp_path: Path) -> None:
    backend = MemoryBackend()
    outcomes = [
        (await run_menu(tmp_path, ROUTING, ["-"], backend=backend)).record.outcome for _ in range(3)
    ]
    assert outcomes == ["agent", "agent", "capped"]


async def test_split_follows_the_ratios(tmp_path: Path) -> None:
    backend = MemoryBackend()
    chosen = []
    for seed in range(12):
        result = await run_menu(
            tmp_path, ROUTING.replace("limit: 2", "limit: 99"), ["-"], backend=backend, seed=seed
        )
        chosen.append(result.steps("split")[0].split(" -> ")[1])
    assert set(chosen) == {"east", "west"}
