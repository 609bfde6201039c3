"""Dialled feature codes to events."""

from __future__ import annotations

import pytest

from acd.agents import (
    AgentEvent,
    AgentState,
    FeatureRequest,
    PauseReasons,
    apply,
    feature_codes,
    parse_feature_code,
)
from tests.unit.acd.agents.support import T, in_state

E = AgentEvent


@pytest.mark.parametrize(
    ("dialled", "expected"),
    [
        ("*11", FeatureRequest(E.LOG_IN)),
        ("*12", FeatureRequest(E.LOG_OUT)),
        ("*13", FeatureRequest(E.PAUSE)),
        ("*13*1", FeatureRequest(E.PAUSE, "break")),
        ("*13*2", FeatureRequest(E.PAUSE, "lunch")),
        ("*13*4", FeatureRequest(E.PAUSE, "meeting")),
        ("*14", FeatureRequest(E.READY)),
        (" *14\n", FeatureRequest(E.READY)),
    ],
)
def test_known_codes(dialled: str, expected: FeatureRequest) -> None:
    assert parse_feature_code(dialled) == expected


@pytest.mark.parametrize(
    "dialled",
    ["", "*1", "*10", "*15", "11", "*13*", "*13*0", "*13*5", "*13*6", "*13*02", "*11*5", "*13#"],
)
def test_unknown_codes(dialled: str) -> None:
    assert parse_feature_code(dialled) is None


def test_numbers_follow_the_configured_list() -> None:
    reasons = PauseReasons.of("coaching")
    assert parse_feature_code("*13*1", reasons) == FeatureRequest(E.PAUSE, "coaching")
    assert parse_feature_code("*13*2", reasons) is None
    assert list(feature_codes(reasons)) == ["*11", "*12", "*13", "*13*1", "*14"]


def test_a_code_drives_the_machine() -> None:
    request = parse_feature_code("*13*2")
    assert request is not None
    after, _ = apply(in_state(AgentState.AVAILABLE), request.event, T, reason=request.reason)
    assert (after.state, after.pause_reason) == (AgentState.PAUSED, "lunch")
