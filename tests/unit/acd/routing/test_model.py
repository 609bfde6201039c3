"""The values validate themselves; queue stages resolve inherited requirements."""

from __future__ import annotations

from typing import Any

import pytest

from acd.routing import (
    AgentView,
    OfferCallback,
    Overflow,
    QueueConfig,
    Requirement,
    Stage,
    Step,
    WaitingCall,
    check_queues,
)
from tests.unit.acd.routing.support import req


@pytest.mark.parametrize("level", [0, 6, 2.5, True])
def test_levels_run_from_one_to_five(level: Any) -> None:
    with pytest.raises(ValueError, match="from 1 to 5"):
        Requirement("billing", level)
    with pytest.raises(ValueError, match="from 1 to 5"):
        AgentView("a", {"billing": level})


def test_agent_skills_are_a_private_read_only_copy() -> None:
    skills = {"billing": 3}
    view = AgentView("a", skills, queues=["q"])  # type: ignore[arg-type]
    skills["billing"] = 5
    assert view.level("billing") == 3
    assert view.level("roaming") == 0
    assert view.queues == frozenset({"q"})
    with pytest.raises(TypeError):
        view.skills["billing"] = 1  # type: ignore[index]


def test_waiting_call_clocks() -> None:
    assert WaitingCall("c", "q", 0, 10.0).in_queue_since == 10.0
    assert WaitingCall("c", "q", 0, 10.0, queued_at=40.0).in_queue_since == 40.0
    with pytest.raises(ValueError, match="NaN"):
        WaitingCall("c", "q", 0, float("nan"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"requirements": req(billing=1) * 2}, "twice"),
        ({"strategy": "random"}, "strategy"),
        ({"match": "best"}, "match"),
        ({"escalation": (Step(30.0), Step(30.0))}, "growing"),
        ({"max_wait": 60.0}, "go together"),
        ({"on_max_wait": OfferCallback()}, "go together"),
        ({"max_wait": 0.0, "on_max_wait": OfferCallback()}, "> 0"),
        ({"max_wait": 60.0, "on_max_wait": Overflow("q")}, "itself"),
    ],
)
def test_queue_config_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QueueConfig("q", **kwargs)


def test_step_errors() -> None:
    with pytest.raises(ValueError, match="after"):
        Step(-1.0)
    with pytest.raises(ValueError, match="not lower"):
        Step(10.0, priority_boost=-1)
    with pytest.raises(ValueError, match="twice"):
        Step(10.0, req(billing=1) * 2)


def test_stages_resolve_inherited_requirements_and_add_up_boosts() -> None:
    queue = QueueConfig(
        "q",
        [Requirement("billing", 4)],  # type: ignore[arg-type]
        escalation=[Step(10.0, priority_boost=1), Step(20.0, req(billing=2)), Step(30.0, ())],  # type: ignore[arg-type]
    )
    assert queue.requirements == req(billing=4)
    assert queue.stages == (
        Stage(req(billing=4), 0),
        Stage(req(billing=4), 1),
        Stage(req(billing=2), 1),
        Stage((), 1),
    )
    hash(queue)  # usable as a key: lists were turned into tuples


def test_check_queues() -> None:
    good = QueueConfig("a", max_wait=5.0, on_max_wait=Overflow("b"))
    check_queues({"a": good, "b": QueueConfig("b")})
    with pytest.raises(ValueError, match="unknown queue"):
        check_queues({"a": good})
    with pytest.raises(ValueError, match="filed under"):
        check_queues({"x": QueueConfig("b")})
