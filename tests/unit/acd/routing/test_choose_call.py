"""Choosing a call for an agent: priority, age, queues served, eligibility, tie-breaks."""

from __future__ import annotations

from dataclasses import replace

from acd.routing import QueueConfig, Step, WaitingCall
from tests.unit.acd.routing.support import Router, agent, call, req

QUEUES = {
    "billing": QueueConfig("billing", req(billing=2)),
    "roaming": QueueConfig("roaming", req(roaming=3)),
    "english": QueueConfig("english", req(english=3)),
}
BOTH = agent("a", billing=3, roaming=3)


def test_a_vip_overtakes_ordinary_callers_waiting_longer(router: Router) -> None:
    calls = [
        call("c1", "billing", priority=0, entered=0.0),
        call("c2", "billing", priority=0, entered=5.0),
        call("vip", "billing", priority=5, entered=50.0),
    ]
    assert router.call_for(BOTH, calls, QUEUES, 60.0) == calls[2]
    assert router.call_for(BOTH, calls[:2], QUEUES, 60.0) == calls[0]  # then by age


def test_across_every_queue_the_agent_serves(router: Router) -> None:
    calls = [
        call("b", "billing", entered=20.0),
        call("r", "roaming", entered=10.0),  # the oldest the agent can take
        call("e", "english", entered=0.0),  # older, but no English
    ]
    assert router.call_for(BOTH, calls, QUEUES, 30.0) == calls[1]
    billing_only = agent("a", queues=["billing", "english"], billing=3, roaming=3)
    assert router.call_for(billing_only, calls, QUEUES, 30.0) == calls[0]


def test_a_queue_whose_skill_is_too_low_is_passed_over(router: Router) -> None:
    weak = agent("w", billing=3, roaming=2)
    calls = [call("r", "roaming", priority=9, entered=0.0), call("b", "billing", entered=9.0)]
    assert router.call_for(weak, calls, QUEUES, 10.0) == calls[1]


def test_priority_raised_while_waiting_takes_effect(router: Router) -> None:
    calls = [call("c1", "billing", entered=0.0), call("c2", "billing", entered=5.0)]
    assert router.call_for(BOTH, calls, QUEUES, 10.0) == calls[0]
    calls[1] = replace(calls[1], priority=3)  # the CRM recognised a VIP
    assert router.call_for(BOTH, calls, QUEUES, 10.0) == calls[1]


def test_a_call_the_agent_missed_is_not_offered_again(router: Router) -> None:
    calls = [
        call("c1", "billing", entered=0.0, declined=["a"]),
        call("c2", "billing", entered=5.0),
    ]
    assert router.call_for(BOTH, calls, QUEUES, 10.0) == calls[1]
    other = agent("b", billing=2)
    assert router.call_for(other, calls, QUEUES, 10.0) == calls[0]  # kept its place


def test_current_requirements_decide_eligibility(router: Router) -> None:
    queues = {
        "q": QueueConfig(
            "q", req(billing=4), escalation=(Step(30.0, req(billing=2), priority_boost=1),)
        )
    }
    calls = [call("young", "q", entered=20.0), call("old", "q", entered=0.0)]
    mid = agent("m", billing=2)
    assert router.call_for(mid, calls, queues, 29.0) is None
    assert router.call_for(mid, calls, queues, 30.0) == calls[1]
    assert router.call_for(mid, calls[:1], queues, 49.0) is None
    assert router.call_for(mid, calls[:1], queues, 50.0) == calls[0]


def test_no_call_for_an_unavailable_agent_or_an_empty_queue(router: Router) -> None:
    calls = [call("c1", "billing")]
    assert router.call_for(replace(BOTH, available=False), calls, QUEUES, 1.0) is None
    assert router.call_for(BOTH, [], QUEUES, 1.0) is None


def test_full_ties_go_to_the_smallest_call_id_whatever_the_order(router: Router) -> None:
    calls = [call(name, "billing", priority=1, entered=3.0) for name in ("k", "d", "x")]
    calls += [call("b", "roaming", priority=1, entered=3.0)]
    for order in (calls, calls[::-1]):
        picked: WaitingCall | None = router.call_for(BOTH, order, QUEUES, 4.0)
        assert picked is not None
        assert picked.id == "b"
