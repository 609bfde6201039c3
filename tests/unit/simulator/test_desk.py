"""The simulator's waiting desk: a queue's settings on a simulated clock, the ACD's routing
choosing among the configuration's agents once they are free."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from ivr_engine.interpreter.waiting import QueueOutcome
from ivr_engine.simulator.desk import SimulatedDesk
from tests.unit.acd_asterisk.scripted import make_config

CALLER = "13800138000"


class HeardChannel:
    """A channel that keeps what the caller heard; ``keys``: one per place a key is taken
    (a prompt with escape keys, a wait, a collect)."""

    language = "en"

    def __init__(self, keys: Sequence[str] = ()) -> None:
        self.keys = list(keys)
        self.heard: list[str] = []

    def _key(self) -> str | None:
        return self.keys.pop(0) if self.keys else None

    async def play(self, prompts: Sequence[str], escape: str = "") -> str | None:
        self.heard += prompts
        return self._key() if escape else None

    async def wait_key(self, timeout: float) -> str | None:
        return self._key()

    async def collect(
        self, first: str | None, max_digits: int, terminator: str | None, timeout: float
    ) -> tuple[str, bool]:
        digits = self._key() or ""
        return digits, not digits

    async def set_language(self, language: str) -> None:
        self.language = language

    async def set_result(self, name: str, value: str) -> None:
        raise AssertionError("the desk leaves nothing for the dialplan")

    async def hangup(self) -> None:
        raise AssertionError("the desk never hangs up")


class Waited:
    def __init__(self, outcome: QueueOutcome, notes: list[str], shown: list[str]) -> None:
        self.outcome = outcome
        self.notes = notes
        self.shown = shown


async def wait(
    channel: HeardChannel, agent_after: float, queue: str = "sales", **queues: dict[str, Any]
) -> Waited:
    notes: list[str] = []
    shown: list[str] = []
    desk = SimulatedDesk(make_config(**queues), channel, CALLER, agent_after, shown.append)
    outcome = await desk.wait("call-1", queue, notes.append)
    return Waited(outcome, notes, shown)


def test_it_serves_the_queues_of_the_configuration() -> None:
    desk = SimulatedDesk(make_config(), HeardChannel(), CALLER, 0.0, print)
    assert desk.serves("sales") and desk.serves("billing")
    assert not desk.serves("nowhere")


async def test_announcements_come_until_the_agents_are_free() -> None:
    channel = HeardChannel()
    waited = await wait(channel, 25.0, sales={"announce_every_s": 10})
    assert waited.outcome == QueueOutcome("talked", "8001")  # 8001-8002 alike: lowest id
    assert waited.notes == [
        "enter sales priority=0",
        *["announce position=1 wait=1min"] * 3,  # at 3 s, 13 s and 23 s
        "offer 8001",
        "talked 8001",
    ]
    holds = [line for line in waited.shown if "music on hold" in line]
    assert holds == [f"  ... {s} s of music on hold" for s in (3, 10, 10, 2)]
    assert channel.heard[:5] == [
        "acd-position-before",
        "num/1",
        "acd-position-after",
        "acd-wait-before",
        "num/1",
    ]


async def test_the_estimate_is_the_time_left_until_the_agents_are_free() -> None:
    waited = await wait(HeardChannel(), 200.0, sales={"announce_every_s": 60})
    announced = [n for n in waited.notes if n.startswith("announce")]
    assert announced == [
        "announce position=1 wait=4min",  # 197 s left
        "announce position=1 wait=3min",  # 137 s
        "announce position=1 wait=2min",  # 77 s
        "announce position=1 wait=1min",  # 17 s
    ]


async def test_a_free_agent_takes_the_call_at_once() -> None:
    waited = await wait(HeardChannel(), 0.0, sales={"announce_every_s": 30, "recording": True})
    assert waited.notes == [
        "enter sales priority=0",
        "recording acd/call-1.wav",
        "offer 8001",
        "talked 8001",
    ]
    assert not any("music on hold" in line for line in waited.shown)


async def test_escalation_lets_more_agents_take_the_call() -> None:
    hard = {"requirements": {"billing": 5}, "escalation": [{"after": 30, "requirements": {}}]}
    waited = await wait(HeardChannel(), 10.0, "hard", hard=hard)
    assert waited.outcome == QueueOutcome("talked", "8001")  # anyone, from 30 s on
    assert waited.shown[0] == "  ... 30 s of music on hold"  # 10 s, then 20 s: one hold


async def test_a_call_nobody_can_ever_take_is_refused() -> None:
    with pytest.raises(ValueError, match="no agent of <test> can take calls of queue hard"):
        await wait(HeardChannel(), 10.0, "hard", hard={"requirements": {"billing": 5}})


async def test_max_wait_overflows_to_the_other_queue() -> None:
    overflow = {"max_wait": {"after": 5, "action": "overflow", "queue": "billing"}}
    waited = await wait(HeardChannel(), 60.0, sales=overflow)
    assert waited.outcome == QueueOutcome("talked", "8003")  # billing's only agent
    assert waited.notes == [
        "enter sales priority=0",
        "overflow to billing",
        "offer 8003",
        "talked 8003",
    ]


async def test_max_wait_callback_to_a_number_keyed_in() -> None:
    channel = HeardChannel(["2", "5550001"])
    waited = await wait(channel, 60.0, sales={"max_wait": {"after": 5, "action": "callback"}})
    assert waited.outcome == QueueOutcome("callback")
    assert waited.notes == ["enter sales priority=0", "callback offered", "callback to 5550001"]
    assert channel.heard == [
        "acd-callback-offer",
        "acd-callback-enter-number",
        "acd-callback-confirmed",
    ]


async def test_a_declined_callback_waits_on_for_the_agent() -> None:
    waited = await wait(
        HeardChannel(), 60.0, sales={"max_wait": {"after": 5, "action": "callback"}}
    )
    assert waited.outcome == QueueOutcome("talked", "8001")
    assert waited.notes == [
        "enter sales priority=0",
        "callback offered",
        "callback declined (key none)",  # offered once only
        "offer 8001",
        "talked 8001",
    ]


async def test_max_wait_announcement_sends_the_call_on() -> None:
    announce = {"after": 5, "action": "announce", "prompt": "acd-closed", "destination": "vm"}
    channel = HeardChannel()
    waited = await wait(channel, 60.0, sales={"max_wait": announce})
    assert waited.outcome == QueueOutcome("announce", destination="vm")
    assert waited.notes[-1] == "max wait: announce acd-closed, to vm"
    assert channel.heard == ["acd-closed"]
