"""One matching pass (``pair_up``) against the specification in ``acd.routing.choose``."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from acd.routing import (
    AgentView,
    QueueConfig,
    WaitingCall,
    choose_agent,
    choose_call,
    eligible,
)
from acd.service.matching import call_order, pair_up
from tests.unit.acd.routing import strategies as gen
from tests.unit.acd.routing.strategies import Population
from tests.unit.acd.routing.support import agent, call, req

Pairs = list[tuple[WaitingCall, AgentView]]


def ids(pairs: Pairs) -> list[tuple[str, str]]:
    return [(c.id, a.id) for c, a in pairs]


def last_by_queue(pop: Population, last: str | None) -> dict[str, str]:
    return {} if last is None else dict.fromkeys(pop.queues, last)


@settings(max_examples=300)
@given(pop=gen.population(), now=gen.times, data=st.data())
def test_pairs_are_distinct_eligible_and_maximal(
    pop: Population, now: float, data: st.DataObject
) -> None:
    last = data.draw(gen.last_assigned(pop.agent_ids))
    pairs = pair_up(pop.calls, pop.agents, pop.queues, now, last_assigned=last_by_queue(pop, last))
    call_ids = [c.id for c, _ in pairs]
    agent_ids = [a.id for _, a in pairs]
    # (a) no agent and no call is used twice
    assert len(set(call_ids)) == len(call_ids)
    assert len(set(agent_ids)) == len(agent_ids)
    # (b) every pair is eligible, made of the calls and agents given
    for waiting, free in pairs:
        assert waiting in pop.calls
        assert free in pop.agents
        assert eligible(free, waiting, pop.queues[waiting.queue], now), (waiting, free)
    # (d) maximal: no call left unpaired has an eligible agent left unpaired
    left = [a for a in pop.agents if a.id not in set(agent_ids)]
    for waiting in pop.calls:
        if waiting.id not in call_ids:
            queue = pop.queues[waiting.queue]
            assert not [a.id for a in left if eligible(a, waiting, queue, now)], waiting


@settings(max_examples=200)
@given(pop=gen.population(), now=gen.times, data=st.data())
def test_with_one_free_agent_it_gets_choose_calls_call(
    pop: Population, now: float, data: st.DataObject
) -> None:
    if not pop.agents:
        return
    chosen = data.draw(st.integers(0, len(pop.agents) - 1))
    free = replace(pop.agents[chosen], available=True)
    agents = [
        free if i == chosen else replace(a, available=False) for i, a in enumerate(pop.agents)
    ]
    expected = choose_call(free, pop.calls, pop.queues, now)
    pairs = pair_up(pop.calls, agents, pop.queues, now)
    assert ids(pairs) == ([] if expected is None else [(expected.id, free.id)])


@settings(max_examples=200)
@given(pop=gen.population(), now=gen.times, data=st.data())
def test_with_one_call_it_gets_choose_agents_agent(
    pop: Population, now: float, data: st.DataObject
) -> None:
    if not pop.calls:
        return
    waiting = data.draw(st.sampled_from(pop.calls))
    queue = pop.queues[waiting.queue]
    last = data.draw(gen.last_assigned(pop.agent_ids))
    expected = choose_agent(waiting, queue, pop.agents, now, last_assigned=last)
    rr = None if last is None else {waiting.queue: last}
    pairs = pair_up([waiting], pop.agents, pop.queues, now, last_assigned=rr)
    assert ids(pairs) == ([] if expected is None else [(waiting.id, expected.id)])


@settings(max_examples=150)
@given(pop=gen.population(), now=gen.times, data=st.data())
def test_calls_are_served_best_first_each_with_choose_agents_pick_of_those_left(
    pop: Population, now: float, data: st.DataObject
) -> None:
    """The greedy pass of the module docstring, step by step."""
    last = data.draw(gen.last_assigned(pop.agent_ids))
    given_last = last_by_queue(pop, last)
    pairs = pair_up(pop.calls, pop.agents, pop.queues, now, last_assigned=given_last)
    left = list(pop.agents)
    rr = dict(given_last)
    expected: Pairs = []
    for waiting in call_order(pop.calls, pop.queues, now):
        queue = pop.queues[waiting.queue]
        got = choose_agent(waiting, queue, left, now, last_assigned=rr.get(waiting.queue))
        if got is not None:
            expected.append((waiting, got))
            left.remove(got)
            rr[waiting.queue] = got.id
    assert ids(pairs) == ids(expected)
    assert given_last == last_by_queue(pop, last)  # the caller's mapping is not changed


@settings(max_examples=150)
@given(pop=gen.population(), now=gen.times)
def test_the_best_call_with_any_eligible_agent_is_served_first(pop: Population, now: float) -> None:
    """The highest priority in force, then the oldest: never passed over for a lesser call."""
    pairs = pair_up(pop.calls, pop.agents, pop.queues, now)
    servable = [
        c
        for c in call_order(pop.calls, pop.queues, now)
        if any(eligible(a, c, pop.queues[c.queue], now) for a in pop.agents)
    ]
    if not servable:
        assert pairs == []
        return
    best = servable[0]
    assert pairs[0][0] == best
    assert pairs[0][1] == choose_agent(best, pop.queues[best.queue], pop.agents, now)


QUEUES = {
    "billing": QueueConfig("billing", req(billing=2)),
    "vip": QueueConfig("vip", req(billing=2), match="most-skilled"),
    "rr": QueueConfig("rr", req(billing=1), strategy="round-robin", match="any"),
}


def test_a_vip_gets_the_expert_and_the_ordinary_caller_the_closest_fit() -> None:
    agents = [agent("expert", billing=5), agent("novice", billing=2)]
    calls = [call("c1", "billing", entered=0.0), call("v", "vip", priority=5, entered=9.0)]
    assert ids(pair_up(calls, agents, QUEUES, 10.0)) == [("v", "expert"), ("c1", "novice")]


def test_round_robin_moves_on_within_one_pass() -> None:
    agents = [agent(f"a{i}", billing=1) for i in range(1, 4)]
    calls = [
        call("c1", "rr", entered=0.0, declined=["a1", "a2"]),  # only a3 may take it
        call("c2", "rr", entered=1.0),
    ]
    last = {"rr": "a1"}
    # c2 comes after a3, the agent just given to c1, so round the circle to a1 (not a2).
    assert ids(pair_up(calls, agents, QUEUES, 5.0, last_assigned=last)) == [
        ("c1", "a3"),
        ("c2", "a1"),
    ]
    assert last == {"rr": "a1"}


def test_unavailable_agents_and_unknown_queues_are_left_out() -> None:
    agents = [agent("busy", available=False, billing=5), agent("free", billing=2)]
    calls = [call("gone", "closed", entered=0.0), call("c1", "billing", entered=5.0)]
    assert ids(pair_up(calls, agents, QUEUES, 10.0)) == [("c1", "free")]
    assert pair_up(calls, agents[:1], QUEUES, 10.0) == []


def test_a_declined_call_goes_to_another_agent_and_keeps_its_place() -> None:
    agents = [agent("a", billing=2), agent("b", billing=3)]
    calls = [
        call("old", "billing", entered=0.0, declined=["a"]),
        call("new", "billing", entered=5.0),
    ]
    assert ids(pair_up(calls, agents, QUEUES, 10.0)) == [("old", "b"), ("new", "a")]
