"""Choosing an agent for a call: eligibility, proficiency match, strategies, tie-breaks."""

from __future__ import annotations

import pytest

from acd.routing import AgentView, QueueConfig, declined
from tests.unit.acd.routing.support import Router, agent, call, req

BILLING = QueueConfig("q", req(billing=3, mandarin=2))


def ids(*agents: AgentView | None) -> list[str | None]:
    return [None if a is None else a.id for a in agents]


def test_needs_every_skill_at_its_minimum_level(router: Router) -> None:
    staff = [
        agent("a", billing=2, mandarin=5),  # billing too low
        agent("b", billing=5),  # no mandarin
        agent("c", billing=3, mandarin=2),  # exactly the minimums
    ]
    assert ids(router.agent_for(call("c1"), BILLING, staff, 0.0)) == ["c"]


def test_no_eligible_agent_gives_none(router: Router) -> None:
    staff = [
        agent("a", billing=2, mandarin=5),
        agent("b", available=False, billing=5, mandarin=5),
        agent("c", queues=["other"], billing=5, mandarin=5),
    ]
    assert router.agent_for(call("c1"), BILLING, staff, 0.0) is None
    assert router.agent_for(call("c1"), BILLING, [], 0.0) is None


def test_unavailable_and_non_member_agents_are_skipped(router: Router) -> None:
    staff = [
        agent("a", available=False, idle=0.0, billing=3, mandarin=2),
        agent("b", queues=["other"], idle=1.0, billing=3, mandarin=2),
        agent("c", queues=["q", "other"], idle=2.0, billing=3, mandarin=2),
    ]
    assert ids(router.agent_for(call("c1"), BILLING, staff, 0.0)) == ["c"]


STAFF = [
    agent("expert", idle=0.0, billing=5, mandarin=5),  # score 10, idle the longest
    agent("senior", idle=5.0, billing=4, mandarin=3),  # score 7
    agent("junior", idle=9.0, billing=3, mandarin=2),  # score 5, idle the shortest
]


@pytest.mark.parametrize(
    ("match", "expected"),
    [("closest-fit", "junior"), ("most-skilled", "expert"), ("any", "expert")],
)
def test_proficiency_match_before_strategy(router: Router, match: str, expected: str) -> None:
    queue = QueueConfig("q", req(billing=3, mandarin=2), match=match)  # type: ignore[arg-type]
    assert ids(router.agent_for(call("c1"), queue, STAFF, 0.0)) == [expected]


def test_closest_fit_is_the_default_and_only_counts_required_skills(router: Router) -> None:
    staff = [
        agent("polyglot", billing=3, mandarin=2, english=5, cantonese=5),
        agent("specialist", billing=4, mandarin=2),
    ]
    assert BILLING.match == "closest-fit"
    assert ids(router.agent_for(call("c1"), BILLING, staff, 0.0)) == ["polyglot"]


def test_longest_idle_among_equal_matches(router: Router) -> None:
    staff = [
        agent("a", idle=30.0, billing=3, mandarin=2),
        agent("b", idle=10.0, billing=3, mandarin=2),
        agent("c", idle=5.0, billing=5, mandarin=5),  # idle longer, but a worse fit
    ]
    assert ids(router.agent_for(call("c1"), BILLING, staff, 100.0)) == ["b"]


def test_least_calls_among_equal_matches(router: Router) -> None:
    queue = QueueConfig("q", req(billing=1), strategy="least-calls")
    staff = [
        agent("a", idle=0.0, calls=12, billing=2),
        agent("b", idle=50.0, calls=3, billing=2),
        agent("c", idle=0.0, calls=1, billing=4),  # fewer calls, but a worse fit
    ]
    assert ids(router.agent_for(call("c1"), queue, staff, 100.0)) == ["b"]


def test_round_robin_cycles_in_id_order(router: Router) -> None:
    queue = QueueConfig("q", req(billing=1), strategy="round-robin")
    staff = [agent(name, billing=2) for name in ("c", "a", "d", "b")]
    staff.append(agent("e", billing=3))  # a worse fit: never in the rotation
    chosen: list[str] = []
    last: str | None = None
    for _ in range(6):
        picked = router.agent_for(call("c1"), queue, staff, 0.0, last)
        assert picked is not None
        chosen.append(picked.id)
        last = picked.id
    assert chosen == ["a", "b", "c", "d", "a", "b"]


def test_round_robin_continues_after_an_agent_who_left(router: Router) -> None:
    queue = QueueConfig("q", strategy="round-robin")
    staff = [agent("a"), agent("c"), agent("d")]
    assert ids(router.agent_for(call("c1"), queue, staff, 0.0, "b")) == ["c"]
    assert ids(router.agent_for(call("c1"), queue, staff, 0.0, "z")) == ["a"]


@pytest.mark.parametrize("strategy", ["longest-idle", "least-calls", "round-robin"])
def test_full_ties_go_to_the_smallest_id_whatever_the_order(router: Router, strategy: str) -> None:
    queue = QueueConfig("q", req(billing=1), strategy=strategy)  # type: ignore[arg-type]
    staff = [agent(name, idle=7.0, calls=2, billing=3) for name in ("m", "b", "x", "k")]
    for order in (staff, staff[::-1]):
        assert ids(router.agent_for(call("c1"), queue, order, 10.0)) == ["b"]


def test_a_missed_ring_goes_to_the_next_agent_and_keeps_the_place(router: Router) -> None:
    staff = [
        agent("a", idle=1.0, billing=3, mandarin=2),
        agent("b", idle=2.0, billing=3, mandarin=2),
        agent("c", idle=3.0, billing=4, mandarin=4),
    ]
    waiting = call("c1", entered=100.0)
    assert ids(router.agent_for(waiting, BILLING, staff, 110.0)) == ["a"]
    waiting = declined(waiting, "a")
    assert waiting.entered_at == 100.0
    assert ids(router.agent_for(waiting, BILLING, staff, 130.0)) == ["b"]
    waiting = declined(waiting, "b")
    assert ids(router.agent_for(waiting, BILLING, staff, 150.0)) == ["c"]  # worse fit, still
    assert router.agent_for(declined(waiting, "c"), BILLING, staff, 170.0) is None


def test_a_call_from_another_queue_is_refused() -> None:
    from acd.routing import choose_agent

    with pytest.raises(ValueError, match="waits in"):
        choose_agent(call("c1", "elsewhere"), BILLING, [], 0.0)
