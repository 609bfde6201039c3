"""The queue node decides through its waiting desk only: whether the desk serves the
node's queue, then the outcome of the wait (talked, callback, announce) or the desk being
unavailable; everything else rings the node's ``ring`` seat."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ivr_engine.agi.channel import AgiChannel
from ivr_engine.interpreter.waiting import DeskUnavailable, Note, QueueOutcome
from tests.unit.nodes.support import Outcome, run_menu

QUEUED = """
entries: {"10086": start}
nodes:
  start: {type: set, language: en, next: agent}
  agent:
    type: queue
    queue: sales
    prompts: [hold-on]
    skills: {billing: 2}
    priority: 7
    ring: "8002"
    after_agent: survey
  survey:
    type: survey
    prompts: [rate-us]
    answers: {"1": satisfied}
    thanks: [thanks]
    next: bye
  bye: {type: hangup, prompts: [goodbye], outcome: served}
"""


@dataclass
class FakeDesk:
    """Serves ``queues``; every wait notes its queue and ends with ``ends``."""

    queues: frozenset[str]
    ends: QueueOutcome | DeskUnavailable
    asked: list[str] = field(default_factory=list)
    waits: list[tuple[str, str]] = field(default_factory=list)
    channels: list[AgiChannel] = field(default_factory=list)

    def bind(self, channel: AgiChannel) -> FakeDesk:
        self.channels.append(channel)
        return self

    def serves(self, queue: str) -> bool:
        self.asked.append(queue)
        return queue in self.queues

    async def wait(self, call_id: str, queue: str, note: Note) -> QueueOutcome:
        self.waits.append((call_id, queue))
        note(f"enter {queue}")
        if isinstance(self.ends, DeskUnavailable):
            raise self.ends
        return self.ends


async def call(tmp_path: Path, desk: FakeDesk, keys: list[str], menu: str = QUEUED) -> Outcome:
    return await run_menu(tmp_path, menu, keys, desks=desk.bind)


def rang_the_seat(result: Outcome) -> bool:
    variables = result.caller.variables
    return (variables.get("IVR_TRANSFER"), variables.get("IVR_SKILLS")) == ("8002", "billing:2")


async def test_after_the_agent_the_menu_goes_on_at_after_agent(tmp_path: Path) -> None:
    desk = FakeDesk(frozenset({"sales"}), QueueOutcome("talked", "8001"))
    result = await call(tmp_path, desk, ["1"])
    assert desk.asked == ["sales"]
    assert desk.waits == [(result.record.call_id, "sales")]
    assert len(desk.channels) == 1  # one desk bound per call, to the call's own channel
    assert result.heard == ["hold-on", "rate-us", "thanks", "goodbye"]
    assert result.steps("queue") == ["agent skills=billing:2 priority=7"]
    assert result.steps("acd") == ["enter sales"]
    assert result.steps("survey") == ["satisfied"]
    assert result.record.outcome == "agent"
    assert "IVR_TRANSFER" not in result.caller.variables


async def test_a_callback_taken_ends_the_call(tmp_path: Path) -> None:
    desk = FakeDesk(frozenset({"sales"}), QueueOutcome("callback"))
    result = await call(tmp_path, desk, [])
    assert result.heard == ["hold-on"]
    assert result.caller.hung_up
    assert result.record.outcome == "callback"
    assert "IVR_TRANSFER" not in result.caller.variables


async def test_a_max_wait_announcement_hands_the_call_to_its_destination(
    tmp_path: Path,
) -> None:
    desk = FakeDesk(frozenset({"sales"}), QueueOutcome("announce", destination="vm"))
    result = await call(tmp_path, desk, [])
    assert result.caller.variables["IVR_TRANSFER"] == "vm"
    assert "IVR_SKILLS" not in result.caller.variables
    assert result.record.outcome == "announced"


async def test_an_announcement_without_destination_goes_to_the_ring_seat(
    tmp_path: Path,
) -> None:
    desk = FakeDesk(frozenset({"sales"}), QueueOutcome("announce"))
    result = await call(tmp_path, desk, [])
    assert result.caller.variables["IVR_TRANSFER"] == "8002"
    assert result.record.outcome == "announced"


async def test_a_queue_the_desk_does_not_serve_rings_the_seat(tmp_path: Path) -> None:
    desk = FakeDesk(frozenset({"billing"}), QueueOutcome("talked", "8001"))
    result = await call(tmp_path, desk, ["1"])
    assert desk.asked == ["sales"]
    assert desk.waits == []
    assert rang_the_seat(result)
    assert result.caller.variables["IVR_PRIORITY"] == "7"
    assert result.steps("acd") == []
    assert result.heard == ["hold-on"]  # no survey: the call left the menu
    assert result.record.outcome == "agent"


async def test_a_node_without_queue_never_asks_the_desk(tmp_path: Path) -> None:
    desk = FakeDesk(frozenset({"sales"}), QueueOutcome("talked", "8001"))
    result = await call(tmp_path, desk, ["1"], QUEUED.replace("    queue: sales\n", ""))
    assert (desk.asked, desk.waits) == ([], [])
    assert rang_the_seat(result)


async def test_an_unavailable_desk_rings_the_seat_and_says_why(tmp_path: Path) -> None:
    desk = FakeDesk(frozenset({"sales"}), DeskUnavailable(ConnectionRefusedError("refused")))
    result = await call(tmp_path, desk, ["1"])
    assert result.steps("acd") == [
        "enter sales",
        "unavailable (ConnectionRefusedError): ringing 8002",
    ]
    assert rang_the_seat(result)
    assert result.record.outcome == "agent"


async def test_without_a_desk_the_seat_rings(tmp_path: Path) -> None:
    result = await run_menu(tmp_path, QUEUED, ["1"])
    assert rang_the_seat(result)
    assert result.steps("acd") == []
