"""A call record stays bounded: keys cut after MAX_KEYS, steps after MAX_STEPS keeping the
first ones, a step saying how many were left out, and the newest ones."""

from __future__ import annotations

from ivr_engine.journal.record import (
    KEYS_CUT,
    MAX_KEYS,
    MAX_STEPS,
    STEPS_HEAD,
    STEPS_TAIL,
    TRUNCATED,
    CallRecord,
)


def _record() -> CallRecord:
    return CallRecord(caller="13800138000", dialled="10086", channel="PJSIP/x", unique_id="1.1")


def test_keys_are_cut_once_and_marked() -> None:
    record = _record()
    record.add_keys("1" * (MAX_KEYS - 2))
    assert not record.truncated
    record.add_keys("2345")
    record.add_keys("6789")
    assert record.keys == "1" * (MAX_KEYS - 2) + "23" + KEYS_CUT
    assert record.truncated
    assert [s.detail for s in record.steps if s.kind == "keys"][-1] == "23" + KEYS_CUT


def test_steps_keep_the_head_a_count_and_the_newest() -> None:
    record = _record()
    total = 10_000
    for n in range(total):
        record.add_step("node", str(n))
    assert len(record.steps) == MAX_STEPS
    assert [s.detail for s in record.steps[:STEPS_HEAD]] == [str(n) for n in range(STEPS_HEAD)]
    marker = record.steps[STEPS_HEAD]
    assert (marker.kind, marker.detail) == (TRUNCATED, f"{total - MAX_STEPS + 1} steps left out")
    newest = [s.detail for s in record.steps[STEPS_HEAD + 1 :]]
    assert newest == [str(n) for n in range(total - STEPS_TAIL, total)]
    assert record.truncated
    assert record.snapshot().to_dict()["steps"][STEPS_HEAD]["kind"] == TRUNCATED
