"""Hypothesis strategies for random routing populations (small, with many ties)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from hypothesis import strategies as st

from acd.routing import (
    MATCHES,
    STRATEGIES,
    AgentView,
    OfferCallback,
    QueueConfig,
    Requirement,
    Requirements,
    Step,
    WaitingCall,
)

SKILLS = ("s0", "s1", "s2", "s3")
QUEUE_NAMES = ("q0", "q1", "q2")
times = st.integers(0, 120).map(float) | st.floats(0.0, 120.0, allow_nan=False)

# Strategies are built once: building them inside every draw dominates the run time.
_levels = st.integers(1, 5)
_skill_levels = st.dictionaries(st.sampled_from(SKILLS), _levels)
_required_levels = st.dictionaries(st.sampled_from(SKILLS), _levels, max_size=3)
_afters = st.sets(st.integers(0, 80), max_size=3)
_boosts = st.integers(0, 3)
_max_waits = st.none() | st.integers(1, 100).map(float)
_availability = st.integers(0, 4).map(bool)  # available four times in five
_idle = st.integers(0, 10).map(float)
_calls_today = st.integers(0, 3)
_entered = st.integers(0, 60).map(float)
_moved = st.none() | st.integers(0, 40)
_priorities = st.integers(0, 3)


@cache
def _sampled(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


@cache
def _memberships(queue_names: tuple[str, ...]) -> st.SearchStrategy[frozenset[str] | None]:
    return st.none() | st.frozensets(_sampled((*queue_names, "elsewhere")))


@cache
def _declined(agent_ids: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(_sampled(agent_ids)) if agent_ids else st.just(frozenset())


@st.composite
def requirements(draw: st.DrawFn) -> Requirements:
    levels = draw(_required_levels)
    return tuple(Requirement(skill, level) for skill, level in levels.items())


_requirements = requirements()
_step_requirements = st.none() | _requirements
_strategies = st.sampled_from(STRATEGIES)
_matches = st.sampled_from(MATCHES)


@st.composite
def queue(draw: st.DrawFn, name: str) -> QueueConfig:
    steps = tuple(
        Step(float(after), draw(_step_requirements), draw(_boosts))
        for after in sorted(draw(_afters))
    )
    max_wait = draw(_max_waits)
    return QueueConfig(
        name,
        draw(_requirements),
        strategy=draw(_strategies),
        match=draw(_matches),
        escalation=steps,
        max_wait=max_wait,
        on_max_wait=None if max_wait is None else OfferCallback(),
    )


@st.composite
def agent(draw: st.DrawFn, agent_id: str, queue_names: tuple[str, ...]) -> AgentView:
    return AgentView(
        agent_id,
        draw(_skill_levels),
        available=draw(_availability),
        idle_since=draw(_idle),
        calls_today=draw(_calls_today),
        queues=draw(_memberships(queue_names)),
    )


@st.composite
def call(
    draw: st.DrawFn, call_id: str, queue_names: tuple[str, ...], agent_ids: tuple[str, ...]
) -> WaitingCall:
    entered = draw(_entered)
    moved = draw(_moved)
    return WaitingCall(
        call_id,
        draw(_sampled(queue_names)),
        draw(_priorities),
        entered,
        draw(_declined(agent_ids)),
        None if moved is None else entered + moved,
    )


@dataclass(frozen=True)
class Population:
    queues: dict[str, QueueConfig]
    agents: list[AgentView]
    calls: list[WaitingCall]

    @property
    def agent_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.agents)


_queue_counts = st.integers(1, len(QUEUE_NAMES))


@st.composite
def population(draw: st.DrawFn, max_agents: int = 25, max_calls: int = 15) -> Population:
    names = QUEUE_NAMES[: draw(_queue_counts)]
    queues = {name: draw(queue(name)) for name in names}
    agent_ids = tuple(f"a{i:02}" for i in range(draw(st.integers(0, max_agents))))
    agents = [draw(agent(i, names)) for i in agent_ids]
    calls = [
        draw(call(f"c{i:02}", names, agent_ids)) for i in range(draw(st.integers(0, max_calls)))
    ]
    return Population(queues, agents, calls)


def last_assigned(agent_ids: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    """None, an agent's id, or an id between or beyond them (an agent who left)."""
    return _last_assigned(agent_ids)


_gone = st.sampled_from(("a", "a00x", "a07x", "b"))


@cache
def _last_assigned(agent_ids: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    return st.none() | _gone | (_sampled(agent_ids) if agent_ids else _gone)
