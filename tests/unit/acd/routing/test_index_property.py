"""The indexes give the same answers as the specification, on random populations."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

from acd.routing import (
    AgentIndex,
    AgentView,
    CallIndex,
    WaitingCall,
    choose_agent,
    choose_call,
    declined,
    overflowed,
)
from tests.unit.acd.routing import strategies as gen
from tests.unit.acd.routing.strategies import Population


def ident(x: AgentView | WaitingCall | None) -> str | None:
    return None if x is None else x.id


def assert_same_answers(
    pop: Population,
    agents: AgentIndex,
    calls: CallIndex,
    now: float,
    last: str | None,
) -> None:
    for waiting in pop.calls:
        queue = pop.queues[waiting.queue]
        expected = choose_agent(waiting, queue, pop.agents, now, last_assigned=last)
        got = agents.choose_agent(waiting, now, last_assigned=last)
        assert ident(got) == ident(expected), (waiting, now, last)
    for free in pop.agents:
        expected_call = choose_call(free, pop.calls, pop.queues, now)
        assert ident(calls.choose_call(free, now)) == ident(expected_call), (free, now)


@settings(max_examples=200)
@given(data=st.data(), pop=gen.population())
def test_indexes_match_the_specification(data: st.DataObject, pop: Population) -> None:
    agents = AgentIndex(pop.queues.values(), pop.agents)
    calls = CallIndex(pop.queues.values(), pop.calls)
    # Unsorted instants: time also goes back, which the call index must survive.
    for now in data.draw(st.lists(gen.times, min_size=1, max_size=4)):
        last = data.draw(gen.last_assigned(pop.agent_ids))
        assert_same_answers(pop, agents, calls, now, last)


class RoutingMachine(RuleBasedStateMachine):
    """Agents and calls come and go, priorities change, rings are missed, time passes."""

    def __init__(self) -> None:
        super().__init__()
        self.pop = Population({}, [], [])
        self.agents = AgentIndex()
        self.calls = CallIndex()
        self.now = 0.0
        self.serial = 0

    call_ids = Bundle("call_ids")

    @initialize(pop=gen.population(max_agents=15, max_calls=8))
    def start(self, pop: Population) -> None:
        self.pop = Population(dict(pop.queues), list(pop.agents), list(pop.calls))
        self.agents = AgentIndex(pop.queues.values(), pop.agents)
        self.calls = CallIndex(pop.queues.values(), pop.calls)

    def _names(self) -> tuple[str, ...]:
        return tuple(self.pop.queues)

    def _put_agent(self, view: AgentView) -> None:
        self.pop.agents[:] = [a for a in self.pop.agents if a.id != view.id] + [view]
        self.agents.upsert(view)

    def _put_call(self, waiting: WaitingCall) -> None:
        self.pop.calls[:] = [c for c in self.pop.calls if c.id != waiting.id] + [waiting]
        self.calls.upsert(waiting)

    @rule(data=st.data())
    def agent_changes(self, data: st.DataObject) -> None:
        ids = (*self.pop.agent_ids, f"n{self.serial:02}")
        self.serial += 1
        self._put_agent(data.draw(gen.agent(data.draw(st.sampled_from(ids)), self._names())))

    @rule(data=st.data())
    def agent_logs_out(self, data: st.DataObject) -> None:
        if self.pop.agents:
            gone = data.draw(st.sampled_from(self.pop.agents))
            self.pop.agents.remove(gone)
            assert self.agents.remove(gone.id) == gone

    @rule(target=call_ids, data=st.data())
    def call_arrives(self, data: st.DataObject) -> str:
        waiting = data.draw(gen.call(f"m{self.serial:02}", self._names(), self.pop.agent_ids))
        self.serial += 1
        self._put_call(replace(waiting, entered_at=waiting.entered_at + self.now))
        return waiting.id

    @rule(call_id=consumes(call_ids))
    def call_answered(self, call_id: str) -> None:
        if call_id in self.calls:
            self.pop.calls[:] = [c for c in self.pop.calls if c.id != call_id]
            assert self.calls.remove(call_id).id == call_id

    @rule(data=st.data())
    def call_changes(self, data: st.DataObject) -> None:
        if not self.pop.calls:
            return
        waiting = data.draw(st.sampled_from(self.pop.calls))
        how = data.draw(st.sampled_from(("priority", "declined", "overflow")))
        if how == "priority":
            self._put_call(replace(waiting, priority=data.draw(st.integers(0, 5))))
        elif how == "declined" and self.pop.agents:
            self._put_call(declined(waiting, data.draw(st.sampled_from(self.pop.agent_ids))))
        else:
            self._put_call(overflowed(waiting, data.draw(st.sampled_from(self._names())), self.now))

    @rule(data=st.data())
    def queue_reconfigured(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(self._names()))
        config = data.draw(gen.queue(name))
        self.pop.queues[name] = config
        self.agents.set_queue(config)
        self.calls.set_queue(config)

    @rule(step=st.integers(-10, 40).map(float) | st.floats(0.0, 3.0))
    def time_passes(self, step: float) -> None:
        self.now = max(0.0, self.now + step)  # mostly forward, sometimes back

    @invariant()
    def same_answers(self) -> None:
        for last in (None, *self.pop.agent_ids[:1], "a05x"):
            assert_same_answers(self.pop, self.agents, self.calls, self.now, last)


RoutingMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=25)
test_routing_machine = RoutingMachine.TestCase
