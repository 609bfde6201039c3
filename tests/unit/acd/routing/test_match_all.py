"""``match_all``, a matching pass over the indexes, pairs exactly as ``pair_up`` does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from acd.routing import AgentIndex, AgentView, CallIndex, QueueConfig, WaitingCall, match_all
from acd.service.matching import pair_up
from tests.unit.acd.routing import strategies as gen
from tests.unit.acd.routing.strategies import Population
from tests.unit.acd.routing.support import agent, call, req

Pairs = list[tuple[WaitingCall, AgentView]]


def ids(pairs: Pairs) -> list[tuple[str, str]]:
    return [(c.id, a.id) for c, a in pairs]


@settings(max_examples=250)
@given(pop=gen.population(), data=st.data())
def test_passes_pair_as_pair_up_and_take_the_pairs_out(
    pop: Population, data: st.DataObject
) -> None:
    agents = AgentIndex(pop.queues.values(), pop.agents)
    calls = CallIndex(pop.queues.values(), pop.calls)
    free = [a for a in pop.agents if a.available]
    waiting = list(pop.calls)
    last: dict[str, str] = {}
    # Several passes with time moving on (the call index stages lazily), as a dispatcher
    # runs them; between passes some agents come back.
    for now in sorted(data.draw(st.lists(gen.times, min_size=1, max_size=3))):
        chosen = data.draw(gen.last_assigned(pop.agent_ids))
        if chosen is not None:
            last = dict.fromkeys(pop.queues, chosen)
        expected = pair_up(waiting, free, pop.queues, now, last_assigned=last)
        timings: list[float] = []
        got = match_all(calls, agents, now, last_assigned=last, timed=timings.append)
        assert ids(got) == ids(expected), now
        assert len(timings) >= len(got)
        taken = {a.id for _, a in got}
        served = {c.id for c, _ in got}
        free = [a for a in free if a.id not in taken]
        waiting = [c for c in waiting if c.id not in served]
        assert sorted(a.id for a in agents if a.available) == sorted(a.id for a in free)
        assert sorted(c.id for c in calls) == sorted(c.id for c in waiting)
        for _, back in got[: data.draw(st.integers(0, len(got)))]:
            agents.upsert(back)
            free.append(back)
        for c, a in got:
            last[c.queue] = a.id


def test_calls_waiting_for_skills_nobody_free_has_are_not_looked_at() -> None:
    queues = [QueueConfig("easy", req(general=1)), QueueConfig("hard", req(vip=5))]
    hard = [call(f"h{i}", "hard", entered=float(i)) for i in range(50)]
    calls = CallIndex(queues, [*hard, call("e1", "easy", entered=99.0)])
    agents = AgentIndex(queues, [agent("a", general=1), agent("b", general=2)])
    timings: list[float] = []
    got = match_all(calls, agents, 100.0, timed=timings.append)
    assert ids(got) == [("e1", "a")]  # closest fit
    assert len(timings) == 1  # one choice made: the fifty hard calls were skipped whole
    assert len(calls) == 50
    assert [a.id for a in agents] == ["b"]


def test_a_pool_emptied_by_better_calls_ends_its_list() -> None:
    queues = [QueueConfig("q", req(general=1))]
    calls = CallIndex(queues, [call(f"c{i}", "q", entered=float(i)) for i in range(20)])
    agents = AgentIndex(queues, [agent("a", general=1), agent("b", general=1)])
    timings: list[float] = []
    assert ids(match_all(calls, agents, 50.0, timed=timings.append)) == [
        ("c0", "a"),
        ("c1", "b"),
    ]
    assert len(timings) == 2
    assert len(calls) == 18
