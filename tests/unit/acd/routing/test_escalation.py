"""Escalation steps, next_change_at, maximum wait and its actions, overflow."""

from __future__ import annotations

import pytest

from acd.routing import (
    Announce,
    OfferCallback,
    Overflow,
    QueueConfig,
    Step,
    effective,
    max_wait_action,
    next_change_at,
    overflowed,
)
from tests.unit.acd.routing.support import Router, agent, call, req

# Billing in Mandarin at level 4; after 20 s level 2 will do (and a little priority);
# after 60 s any agent with billing, one more priority point.
BULLSEYE = QueueConfig(
    "q",
    req(billing=4, mandarin=3),
    escalation=(
        Step(after=20.0, requirements=req(billing=2, mandarin=2), priority_boost=1),
        Step(after=60.0, requirements=req(billing=1), priority_boost=1),
    ),
)


@pytest.mark.parametrize(
    ("now", "requirements", "priority"),
    [
        (100.0, req(billing=4, mandarin=3), 5),
        (119.99, req(billing=4, mandarin=3), 5),
        (120.0, req(billing=2, mandarin=2), 6),
        (159.0, req(billing=2, mandarin=2), 6),
        (160.0, req(billing=1), 7),
        (10_000.0, req(billing=1), 7),
    ],
)
def test_effective_follows_the_last_step_reached(
    now: float, requirements: object, priority: int
) -> None:
    assert effective(call("c1", priority=5, entered=100.0), BULLSEYE, now) == (
        requirements,
        priority,
    )


def test_steps_that_only_boost_keep_the_requirements() -> None:
    queue = QueueConfig(
        "q", req(billing=3), escalation=(Step(30.0, priority_boost=2), Step(90.0, ()))
    )
    waiting = call("c1", priority=1)
    assert effective(waiting, queue, 30.0) == (req(billing=3), 3)
    assert effective(waiting, queue, 90.0) == ((), 3)  # () = any agent; boosts add up


def test_escalation_widens_the_agents_eligible(router: Router) -> None:
    staff = [
        agent("novice", idle=0.0, billing=1),
        agent("mid", idle=1.0, billing=2, mandarin=2),
    ]
    waiting = call("c1", entered=100.0)
    assert router.agent_for(waiting, BULLSEYE, staff, 119.0) is None
    assert [router.agent_for(waiting, BULLSEYE, staff, t) for t in (120.0, 160.0)] == [
        staff[1],
        staff[0],  # at 60 s closest fit on billing alone: the novice
    ]


def test_escalation_raises_priority_against_fresh_callers(router: Router) -> None:
    queues = {"q": BULLSEYE}
    old = call("old", priority=0, entered=0.0)
    vip = call("vip", priority=2, entered=50.0)
    expert = agent("e", billing=5, mandarin=5)
    assert router.call_for(expert, [vip, old], queues, 59.0) == vip  # 2 against 0+1
    assert router.call_for(expert, [vip, old], queues, 60.0) == old  # 0+1+1, and older


def test_next_change_at_counts_from_the_queue_clock() -> None:
    waiting = call("c1", entered=100.0)
    assert next_change_at(waiting, BULLSEYE, 100.0) == 120.0
    assert next_change_at(waiting, BULLSEYE, 119.0) == 120.0
    assert next_change_at(waiting, BULLSEYE, 120.0) == 160.0
    assert next_change_at(waiting, BULLSEYE, 160.0) is None
    moved = call("c1", entered=100.0, queued_at=150.0)
    assert next_change_at(moved, BULLSEYE, 150.0) == 170.0


def test_next_change_at_includes_the_max_wait() -> None:
    queue = QueueConfig(
        "q", escalation=(Step(20.0, priority_boost=1),), max_wait=45.0, on_max_wait=OfferCallback()
    )
    waiting = call("c1", entered=0.0)
    assert next_change_at(waiting, queue, 0.0) == 20.0
    assert next_change_at(waiting, queue, 20.0) == 45.0
    assert next_change_at(waiting, queue, 45.0) is None
    assert next_change_at(waiting, QueueConfig("q"), 0.0) is None


def test_a_change_is_visible_exactly_at_next_change_at() -> None:
    queue = QueueConfig("q", escalation=(Step(0.3, priority_boost=1),))
    waiting = call("c1", entered=0.1)  # 0.1 + 0.3 is not 0.4 in floating point
    at = next_change_at(waiting, queue, 0.1)
    assert at is not None
    assert effective(waiting, queue, at)[1] == 1


@pytest.mark.parametrize(
    "action", [Overflow("general"), OfferCallback(), Announce("closed-now", "voicemail")]
)
def test_max_wait_action_once_the_wait_is_reached(
    action: Overflow | OfferCallback | Announce,
) -> None:
    queue = QueueConfig("q", max_wait=90.0, on_max_wait=action)
    waiting = call("c1", entered=10.0)
    assert max_wait_action(waiting, queue, 99.9) is None
    assert max_wait_action(waiting, queue, 100.0) == action
    assert max_wait_action(waiting, queue, 500.0) == action
    assert max_wait_action(waiting, QueueConfig("q"), 1e9) is None


def test_overflow_keeps_the_place_by_age_and_restarts_the_clocks(router: Router) -> None:
    vip_desk = QueueConfig("vip", max_wait=30.0, on_max_wait=Overflow("general"))
    general = QueueConfig(
        "general",
        escalation=(Step(20.0, priority_boost=1),),
        max_wait=300.0,
        on_max_wait=OfferCallback(),
    )
    queues = {"vip": vip_desk, "general": general}
    waiting = call("c1", "vip", priority=2, entered=0.0)
    action = max_wait_action(waiting, vip_desk, 30.0)
    assert isinstance(action, Overflow)
    moved = overflowed(waiting, action.queue, 30.0)
    assert (moved.queue, moved.entered_at, moved.queued_at) == ("general", 0.0, 30.0)
    assert effective(moved, general, 30.0) == ((), 2)  # general's steps start over
    assert max_wait_action(moved, general, 31.0) is None
    assert next_change_at(moved, general, 30.0) == 50.0
    # Among general's callers it ranks by its original age.
    younger = call("c0", "general", priority=2, entered=25.0)
    anyone = agent("a")
    assert router.call_for(anyone, [younger, moved], queues, 31.0) == moved


def test_the_call_and_queue_must_match() -> None:
    with pytest.raises(ValueError, match="waits in"):
        effective(call("c1", "other"), BULLSEYE, 0.0)
