"""States, events, pause reasons, the policy and the time helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from acd.agents import (
    DEFAULT_PAUSE_REASONS,
    AgentEvent,
    AgentPolicy,
    AgentState,
    PauseReasonError,
    PauseReasons,
    epoch_seconds,
    utc_datetime,
)


def test_state_and_event_names() -> None:
    assert [s.value for s in AgentState] == [
        "logged-out",
        "available",
        "reserved",
        "on-call",
        "wrap-up",
        "paused",
    ]
    assert [s for s in AgentState if s.logged_in] == list(AgentState)[1:]
    assert [s for s in AgentState if s.with_call] == [AgentState.RESERVED, AgentState.ON_CALL]
    assert AgentEvent("resume") is AgentEvent.READY
    assert len(AgentEvent) == 12


def test_default_reasons_are_numbered_and_the_built_in_ones_exist() -> None:
    reasons = DEFAULT_PAUSE_REASONS
    assert reasons.all == ("break", "lunch", "training", "meeting", "missed-calls", "supervisor")
    assert [reasons.by_number(n) for n in range(6)] == [
        None,
        "break",
        "lunch",
        "training",
        "meeting",
        None,
    ]
    assert (reasons.number_of("lunch"), reasons.number_of("supervisor")) == (2, None)
    assert "missed-calls" in reasons and "nap" not in reasons
    assert reasons.is_selectable("meeting") and not reasons.is_selectable("supervisor")


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (("Break",), "lower-case"),
        (("coffee break",), "lower-case"),
        (("",), "lower-case"),
        (("lunch", "lunch"), "twice"),
        (("supervisor",), "built in"),
        (("missed-calls",), "built in"),
    ],
)
def test_bad_reason_lists(codes: tuple[str, ...], message: str) -> None:
    with pytest.raises(PauseReasonError, match=message):
        PauseReasons(codes)


def test_a_custom_list() -> None:
    reasons = PauseReasons.of("coaching", "tech-issue")
    assert reasons.by_number(2) == "tech-issue"
    policy = AgentPolicy(pause_reasons=reasons, default_pause_reason="coaching")
    assert policy.max_missed == 2


def test_bad_policies() -> None:
    with pytest.raises(ValueError, match="max_missed"):
        AgentPolicy(max_missed=-1)
    with pytest.raises(PauseReasonError, match="log_in_paused"):
        AgentPolicy(log_in_paused="nap")
    with pytest.raises(PauseReasonError, match="default_pause_reason"):
        AgentPolicy(default_pause_reason="supervisor")
    with pytest.raises(PauseReasonError, match="default_pause_reason 'break'"):
        AgentPolicy(pause_reasons=PauseReasons.of("lunch"))


def test_time_helpers() -> None:
    moment = datetime(2024, 5, 6, 9, 0, 0, 250000, tzinfo=timezone(timedelta(hours=2)))
    at = epoch_seconds(moment)
    assert at == 1714978800.25
    assert utc_datetime(at) == moment
    assert utc_datetime(at).tzinfo is UTC
    with pytest.raises(ValueError, match="no time zone"):
        epoch_seconds(datetime(2024, 5, 6, 9, 0))
