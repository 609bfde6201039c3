"""Benchmark 4 says why a missed target is missed, from its own figures."""

from bench.acd_decisions import Samples, SizeResult, _still_missing


def _size(size: int, ms: float) -> SizeResult:
    flat = [ms] * 100
    samples = Samples(enters=flat, ready=flat, spec_enters=[1.5] * 10, spec_ready=[2.0] * 10)
    return SizeResult(size, size // 5, samples, Samples(), [])


def test_a_met_target_needs_no_reason() -> None:
    assert _still_missing("SQLite", [_size(100, 3.0), _size(10_000, 4.0)]) == ""


def test_a_flat_miss_is_put_down_to_the_cost_of_every_decision() -> None:
    note = _still_missing("PostgreSQL", [_size(100, 14.0), _size(10_000, 25.0)])
    assert note.startswith("What still misses (PostgreSQL): the p99 at 10,000 agents is 25 ms")
    assert "14 ms at 100 agents and 25 ms at 10,000" in note
    assert "takes 2 ms (p50)" in note
