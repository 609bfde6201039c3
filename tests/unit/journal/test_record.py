"""CallRecord / Step behaviour (no database)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ivr_engine.journal import CallRecord, Step

T0 = datetime(2024, 5, 6, 7, 8, 9, 500000, tzinfo=UTC)


def record(**overrides: object) -> CallRecord:
    fields: dict[str, object] = {
        "caller": "0301234",
        "dialled": "8000",
        "channel": "PJSIP/alice-00000001",
        "unique_id": "1714979289.17",
        "started_at": T0,
    }
    fields.update(overrides)
    return CallRecord(**fields)  # type: ignore[arg-type]


def test_defaults() -> None:
    before = datetime.now(UTC)
    call = CallRecord(caller="1", dialled="2", channel="c", unique_id="u")
    after = datetime.now(UTC)
    assert len(call.call_id) == 32
    assert uuid.UUID(hex=call.call_id).version == 4
    assert call.call_id != CallRecord(caller="1", dialled="2", channel="c", unique_id="u").call_id
    assert before <= call.started_at <= after
    assert call.started_at.tzinfo is UTC
    assert (call.ended_at, call.outcome, call.hangup_side) == (None, None, None)
    assert (call.keys, call.steps, call.instance) == ("", [], "")
    assert call.finished is False


def test_times_are_normalised_to_utc_and_naive_times_refused() -> None:
    paris = timezone(timedelta(hours=2))
    call = record(started_at=datetime(2024, 5, 6, 9, 8, 9, 500000, tzinfo=paris))
    assert call.started_at == T0
    assert call.started_at.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="timezone-aware"):
        record(started_at=datetime(2024, 5, 6, 7, 8, 9))
    with pytest.raises(ValueError, match="timezone-aware"):
        call.add_step("answer", at=datetime(2024, 5, 6, 7, 8, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        call.finish("completed", "caller", at=datetime(2024, 5, 6, 7, 8, 10))
    assert call.steps == []
    assert call.ended_at is None


def test_add_step_in_order_with_time() -> None:
    call = record()
    first = call.add_step("answer", at=T0 + timedelta(milliseconds=20))
    before = datetime.now(UTC)
    second = call.add_step("prompt", "welcome")
    assert call.steps == [first, second]
    assert first == Step(T0 + timedelta(milliseconds=20), "answer", "")
    assert (second.kind, second.detail) == ("prompt", "welcome")
    assert second.at >= before
    assert second.at.tzinfo is UTC


def test_add_keys_appends_and_records_steps() -> None:
    call = record()
    call.add_keys("1", at=T0 + timedelta(seconds=1))
    call.add_keys("", at=T0 + timedelta(seconds=2))  # nothing pressed: nothing recorded
    call.add_keys("23#", at=T0 + timedelta(seconds=3))
    assert call.keys == "123#"
    assert [(s.kind, s.detail) for s in call.steps] == [("keys", "1"), ("keys", "23#")]


def test_finish_is_idempotent_first_wins() -> None:
    call = record()
    assert call.finish("caller-hangup", "caller", at=T0 + timedelta(seconds=9)) is True
    assert call.finish("completed", "engine", at=T0 + timedelta(seconds=10)) is False
    assert call.finish("error", "unknown") is False
    assert call.outcome == "caller-hangup"
    assert call.hangup_side == "caller"
    assert call.ended_at == T0 + timedelta(seconds=9)
    assert call.finished is True


def test_finish_validates_side_and_outcome() -> None:
    call = record()
    with pytest.raises(ValueError, match="hangup_side"):
        call.finish("completed", "callee")
    with pytest.raises(ValueError, match="outcome"):
        call.finish("", "caller")
    assert call.ended_at is None  # a refused finish does not count as the first one
    assert call.finish("completed", "engine") is True


def test_offsets_are_whole_milliseconds_from_start() -> None:
    call = record()
    assert call.offset_ms(T0) == 0
    assert call.offset_ms(T0 + timedelta(microseconds=999)) == 0
    assert call.offset_ms(T0 + timedelta(seconds=1, microseconds=500_999)) == 1500
    assert call.offset_ms(T0 + timedelta(minutes=2)) == 120_000


def test_to_dict_shape() -> None:
    call = record(call_id="a" * 32, instance="engine-1")
    call.add_step("answer", at=T0 + timedelta(milliseconds=12))
    call.add_step("prompt", "welcome", at=T0 + timedelta(milliseconds=30))
    call.add_keys("5", at=T0 + timedelta(seconds=4, milliseconds=250))
    call.add_step("say_digits", "5", at=T0 + timedelta(seconds=4, milliseconds=300))
    call.add_step("hangup", at=T0 + timedelta(seconds=6))
    call.finish("completed", "engine", at=T0 + timedelta(seconds=6, milliseconds=2))
    expected = {
        "call_id": "a" * 32,
        "caller": "0301234",
        "dialled": "8000",
        "channel": "PJSIP/alice-00000001",
        "unique_id": "1714979289.17",
        "instance": "engine-1",
        "started_at": "2024-05-06T07:08:09.500000+00:00",
        "ended_at": "2024-05-06T07:08:15.502000+00:00",
        "outcome": "completed",
        "hangup_side": "engine",
        "keys": "5",
        "steps": [
            {
                "at": "2024-05-06T07:08:09.512000+00:00",
                "kind": "answer",
                "detail": "",
                "offset_ms": 12,
            },
            {
                "at": "2024-05-06T07:08:09.530000+00:00",
                "kind": "prompt",
                "detail": "welcome",
                "offset_ms": 30,
            },
            {
                "at": "2024-05-06T07:08:13.750000+00:00",
                "kind": "keys",
                "detail": "5",
                "offset_ms": 4250,
            },
            {
                "at": "2024-05-06T07:08:13.800000+00:00",
                "kind": "say_digits",
                "detail": "5",
                "offset_ms": 4300,
            },
            {
                "at": "2024-05-06T07:08:15.500000+00:00",
                "kind": "hangup",
                "detail": "",
                "offset_ms": 6000,
            },
        ],
    }
    assert call.to_dict() == expected
    assert json.loads(json.dumps(call.to_dict())) == expected


def test_to_dict_of_live_call() -> None:
    data = record().to_dict()
    assert (data["ended_at"], data["outcome"], data["hangup_side"]) == (None, None, None)
    assert data["steps"] == []


def test_snapshot_is_independent() -> None:
    call = record()
    call.add_step("answer", at=T0)
    snap = call.snapshot()
    call.add_keys("9", at=T0 + timedelta(seconds=1))
    call.finish("completed", "caller", at=T0 + timedelta(seconds=2))
    assert snap.call_id == call.call_id
    assert [s.kind for s in snap.steps] == ["answer"]
    assert (snap.keys, snap.outcome, snap.ended_at) == ("", None, None)
    assert snap.finish("error", "unknown") is True  # snapshots don't touch the original
    assert call.outcome == "completed"
