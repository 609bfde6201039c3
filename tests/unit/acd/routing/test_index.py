"""What the indexes add over the plain functions: updates, lazy staging, reconfiguration."""

from __future__ import annotations

from dataclasses import replace

import pytest

from acd.routing import AgentIndex, CallIndex, QueueConfig, Step, declined
from tests.unit.acd.routing.support import agent, call, req

Q = QueueConfig("q", req(billing=2))


def test_agent_index_follows_availability_and_removal() -> None:
    a, b = agent("a", idle=1.0, billing=2), agent("b", idle=2.0, billing=2)
    index = AgentIndex([Q], [a, b])
    assert (len(index), "a" in index, index.get("a"), sorted(x.id for x in index)) == (
        2,
        True,
        a,
        ["a", "b"],
    )
    assert index.choose_agent(call("c"), 5.0) == a
    index.upsert(replace(a, available=False, calls_today=1))
    assert index.choose_agent(call("c"), 5.0) == b
    index.upsert(replace(a, available=True, idle_since=9.0, calls_today=1))
    assert index.choose_agent(call("c"), 10.0) == b
    assert index.remove("b") == b
    assert index.choose_agent(call("c"), 10.0) == index.get("a")
    index.remove("a")
    assert index.choose_agent(call("c"), 10.0) is None


def test_agent_index_skills_and_membership_changes() -> None:
    index = AgentIndex([Q, QueueConfig("other")])
    index.upsert(agent("a", billing=1))
    assert index.choose_agent(call("c"), 0.0) is None
    index.upsert(agent("a", billing=2, queues=["other"]))
    assert index.choose_agent(call("c"), 0.0) is None
    assert index.choose_agent(call("c", "other"), 0.0) == index.get("a")
    index.upsert(agent("a", billing=2, queues=["q", "unknown"]))
    assert index.choose_agent(call("c"), 0.0) == index.get("a")


def test_agent_index_reconfigured_queue() -> None:
    staff = [agent("a", idle=5.0, calls=0, billing=2), agent("b", idle=1.0, calls=4, billing=2)]
    index = AgentIndex([Q], staff)
    assert index.choose_agent(call("c"), 9.0) == staff[1]
    index.set_queue(replace(Q, strategy="least-calls"))
    assert index.choose_agent(call("c"), 9.0) == staff[0]
    index.remove_queue("q")
    with pytest.raises(KeyError):
        index.choose_agent(call("c"), 9.0)


def test_agent_index_stages_use_the_call_clock() -> None:
    queue = QueueConfig("q", req(billing=4), escalation=(Step(20.0, req(billing=2)),))
    index = AgentIndex([queue], [agent("a", billing=2)])
    assert index.choose_agent(call("c", entered=0.0), 19.0) is None
    assert index.choose_agent(call("c", entered=0.0), 20.0) is not None
    assert index.choose_agent(call("c", entered=0.0, queued_at=10.0), 20.0) is None
    assert index.choose_agent(declined(call("c"), "a"), 20.0) is None


def test_agent_index_rejects_duplicates() -> None:
    with pytest.raises(ValueError, match="twice"):
        AgentIndex([Q], [agent("a"), agent("a")])


def test_call_index_add_update_remove() -> None:
    a = agent("a", billing=2)
    c1, c2 = call("c1", entered=0.0), call("c2", entered=5.0)
    index = CallIndex([Q], [c1, c2])
    assert (len(index), "c1" in index, index.get("c2"), [c.id for c in index]) == (
        2,
        True,
        c2,
        ["c1", "c2"],
    )
    assert index.choose_call(a, 10.0) == c1
    index.upsert(replace(c2, priority=2))
    assert index.choose_call(a, 10.0) == index.get("c2")
    index.upsert(declined(replace(c2, priority=2), "a"))
    assert index.choose_call(a, 10.0) == c1
    assert index.remove("c1") == c1
    assert index.choose_call(a, 10.0) is None
    with pytest.raises(ValueError, match="already waiting"):
        index.add(c2)
    with pytest.raises(KeyError):
        index.add(call("c3", "nowhere"))


def test_call_index_moves_calls_through_stages_both_ways_in_time() -> None:
    queue = QueueConfig(
        "q",
        req(billing=4),
        escalation=(Step(20.0, req(billing=3)), Step(40.0, req(billing=2), priority_boost=5)),
    )
    index = CallIndex([queue], [call("c1", entered=0.0)])
    mid, low = agent("m", billing=3), agent("l", billing=2)
    seen = [
        (index.choose_call(mid, t) is not None, index.choose_call(low, t) is not None)
        for t in (0.0, 20.0, 100.0, 39.0, 10.0, 40.0)
    ]
    assert seen == [
        (False, False),
        (True, False),
        (True, True),
        (True, False),
        (False, False),
        (True, True),
    ]
    # A fresh caller with a higher own priority loses to the boosted old one.
    index.add(call("c2", priority=4, entered=40.0))
    picked = index.choose_call(agent("x", billing=5), 41.0)
    assert picked is not None and picked.id == "c1"


def test_call_index_reconfigured_queue() -> None:
    index = CallIndex([Q], [call("c1", entered=0.0)])
    mid = agent("m", billing=1)
    assert index.choose_call(mid, 30.0) is None
    index.set_queue(replace(Q, escalation=(Step(20.0, req(billing=1)),)))
    assert index.choose_call(mid, 30.0) == index.get("c1")
    with pytest.raises(ValueError, match="still waiting"):
        index.remove_queue("q")
    index.remove("c1")
    index.remove_queue("q")
    assert len(index) == 0
