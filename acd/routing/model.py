"""The data the routing rules work on: requirements, agents, waiting calls, queues, actions.

Everything here is an immutable value. The routing functions never keep state between
calls: whoever drives them (the SQL-backed ACD, the Asterisk side, the simulation) passes
the agents, the calls, the queue configuration and the current time ``now`` (seconds, any
epoch, as long as it is the same for every value) and gets a decision back.

Times:

- ``WaitingCall.entered_at``: when the caller started waiting for an agent. It fixes the
  caller's place by age and never changes, not when a ring is missed, not on overflow.
- ``WaitingCall.queued_at``: when the call joined its *current* queue (defaults to
  ``entered_at``). Escalation steps and the maximum wait of a queue count from it, so a
  call that overflows to another queue starts that queue's steps from the beginning while
  keeping its place by age among the callers there.

Skill levels run from 1 (novice) to 5 (expert); an agent without a skill has level 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from types import MappingProxyType
from typing import Literal, TypeAlias, get_args

MIN_LEVEL = 1
MAX_LEVEL = 5

Strategy: TypeAlias = Literal["longest-idle", "least-calls", "round-robin"]
"""How a queue breaks ties between equally good agents."""

Match: TypeAlias = Literal["closest-fit", "most-skilled", "any"]
"""How a queue ranks eligible agents by proficiency before its strategy applies."""

STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)
MATCHES: tuple[Match, ...] = get_args(Match)


def _check_level(level: object, what: str) -> None:
    if type(level) is not int or not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"{what} must be an int from {MIN_LEVEL} to {MAX_LEVEL}, got {level!r}")


@dataclass(frozen=True, slots=True)
class Requirement:
    """The call needs an agent with ``skill`` at ``min_level`` or higher."""

    skill: str
    min_level: int = MIN_LEVEL

    def __post_init__(self) -> None:
        if not self.skill:
            raise ValueError("a requirement needs a skill name")
        _check_level(self.min_level, f"min_level of {self.skill!r}")


Requirements: TypeAlias = tuple[Requirement, ...]


def _requirements(value: Iterable[Requirement], what: str) -> Requirements:
    reqs = tuple(value)
    skills = [r.skill for r in reqs]
    if len(set(skills)) != len(skills):
        raise ValueError(f"{what} names a skill twice: {skills}")
    return reqs


@dataclass(frozen=True, slots=True)
class AgentView:
    """What routing needs to know about one agent at the moment of a decision.

    ``available``: logged in, ready, not on a call nor in wrap-up (the agent state machine
    decides that; routing only reads the flag). ``idle_since``: when the agent last became
    available. ``calls_today``: calls answered today. ``queues``: the queues the agent is
    a member of; ``None`` means every queue (pure skill-based routing).
    """

    id: str
    skills: Mapping[str, int]
    available: bool = True
    idle_since: float = 0.0
    calls_today: int = 0
    queues: frozenset[str] | None = None

    def __post_init__(self) -> None:
        skills = dict(self.skills)
        for skill, level in skills.items():
            _check_level(level, f"level of {skill!r} for agent {self.id!r}")
        # A private read-only copy: the indexes rely on a view never changing under them.
        object.__setattr__(self, "skills", MappingProxyType(skills))
        if self.queues is not None:
            object.__setattr__(self, "queues", frozenset(self.queues))
        if self.calls_today < 0:
            raise ValueError("calls_today must not be negative")
        if self.idle_since != self.idle_since:
            raise ValueError("idle_since must not be NaN")

    def level(self, skill: str) -> int:
        """The agent's level on ``skill``, 0 without it."""
        return self.skills.get(skill, 0)

    def serves(self, queue: str) -> bool:
        return self.queues is None or queue in self.queues


@dataclass(frozen=True, slots=True)
class WaitingCall:
    """A caller waiting for an agent in ``queue``; higher ``priority`` goes first (VIPs).

    ``declined_by``: agents who let this call ring out; they are never offered it again.
    """

    id: str
    queue: str
    priority: int
    entered_at: float
    declined_by: frozenset[str] = frozenset()
    queued_at: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "declined_by", frozenset(self.declined_by))
        if self.entered_at != self.entered_at:
            raise ValueError("entered_at must not be NaN")
        if self.queued_at is not None and self.queued_at != self.queued_at:
            raise ValueError("queued_at must not be NaN")

    @property
    def in_queue_since(self) -> float:
        """When the escalation and max-wait clocks of the current queue started."""
        return self.entered_at if self.queued_at is None else self.queued_at


@dataclass(frozen=True, slots=True)
class Step:
    """An escalation step: once the call has waited ``after`` seconds in the queue.

    ``requirements`` replace the ones in force (``None``: keep them, ``()``: any agent);
    ``priority_boost`` is added to the call's priority on top of earlier steps' boosts.
    """

    after: float
    requirements: Requirements | None = None
    priority_boost: int = 0

    def __post_init__(self) -> None:
        if not self.after >= 0:
            raise ValueError(f"a step's after must be >= 0, got {self.after!r}")
        if self.priority_boost < 0:
            raise ValueError("a step may raise a call's priority, not lower it")
        if self.requirements is not None:
            reqs = _requirements(self.requirements, f"the step after {self.after}s")
            object.__setattr__(self, "requirements", reqs)


@dataclass(frozen=True, slots=True)
class Overflow:
    """Move the call to ``queue``; it keeps its place by age (``entered_at``)."""

    queue: str


@dataclass(frozen=True, slots=True)
class OfferCallback:
    """Offer the caller a callback instead of waiting longer."""


@dataclass(frozen=True, slots=True)
class Announce:
    """Play ``prompt``, then send the call to ``destination`` (a target the engine knows)."""

    prompt: str
    destination: str


Action: TypeAlias = Overflow | OfferCallback | Announce


@dataclass(frozen=True, slots=True)
class Stage:
    """What is in force for a call at one escalation stage (0 = no step reached yet)."""

    requirements: Requirements
    priority_boost: int


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """A queue: base requirements, ranking, escalation steps and what to do at max wait."""

    name: str
    requirements: Requirements = ()
    strategy: Strategy = "longest-idle"
    match: Match = "closest-fit"
    escalation: tuple[Step, ...] = ()
    max_wait: float | None = None
    on_max_wait: Action | None = None
    stages: tuple[Stage, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a queue needs a name")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"queue {self.name!r}: strategy must be one of {STRATEGIES}")
        if self.match not in MATCHES:
            raise ValueError(f"queue {self.name!r}: match must be one of {MATCHES}")
        reqs = _requirements(self.requirements, f"queue {self.name!r}")
        object.__setattr__(self, "requirements", reqs)
        steps = tuple(self.escalation)
        object.__setattr__(self, "escalation", steps)
        for before, after in pairwise(steps):
            if not before.after < after.after:
                raise ValueError(f"queue {self.name!r}: escalation steps must have growing after")
        if (self.max_wait is None) != (self.on_max_wait is None):
            raise ValueError(f"queue {self.name!r}: max_wait and on_max_wait go together")
        if self.max_wait is not None and not self.max_wait > 0:
            raise ValueError(f"queue {self.name!r}: max_wait must be > 0")
        if isinstance(self.on_max_wait, Overflow) and self.on_max_wait.queue == self.name:
            raise ValueError(f"queue {self.name!r} cannot overflow to itself")
        stages = [Stage(reqs, 0)]
        for step in steps:
            prev = stages[-1]
            step_reqs = prev.requirements if step.requirements is None else step.requirements
            stages.append(Stage(step_reqs, prev.priority_boost + step.priority_boost))
        object.__setattr__(self, "stages", tuple(stages))


def check_queues(queues: Mapping[str, QueueConfig]) -> None:
    """Check a whole configuration: names match their keys, overflow targets exist."""
    for name, queue in queues.items():
        if queue.name != name:
            raise ValueError(f"queue {queue.name!r} is filed under {name!r}")
        target = queue.on_max_wait
        if isinstance(target, Overflow) and target.queue not in queues:
            raise ValueError(f"queue {name!r} overflows to unknown queue {target.queue!r}")
