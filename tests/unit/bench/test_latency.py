"""Nearest-rank percentiles, which every latency figure of the benchmarks rests on."""

from __future__ import annotations

import math

import pytest

from bench.latency import Spread, percentile


def test_nearest_rank_on_a_hundred_samples() -> None:
    ordered = [float(n) for n in range(1, 101)]  # 1..100
    assert percentile(ordered, 50) == 50.0
    assert percentile(ordered, 95) == 95.0
    assert percentile(ordered, 99) == 99.0
    assert percentile(ordered, 100) == 100.0


def test_a_percentile_is_always_a_sample_never_an_interpolation() -> None:
    ordered = [1.0, 2.0, 10.0, 40.0]
    assert percentile(ordered, 50) == 2.0  # rank ceil(0.5 * 4) = 2
    assert percentile(ordered, 51) == 10.0  # rank ceil(2.04) = 3
    assert percentile(ordered, 99) == 40.0
    assert percentile(ordered, 1) == 1.0


def test_p99_of_a_thousand_is_the_990th() -> None:
    ordered = [float(n) for n in range(1000)]  # 0..999
    assert percentile(ordered, 99) == 989.0


def test_one_sample_and_none() -> None:
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


@pytest.mark.parametrize("q", [0, -1, 100.5])
def test_a_percentile_outside_0_100_is_refused(q: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0], q)


def test_spread_sorts_the_samples_and_scales() -> None:
    spread = Spread.of([0.003, 0.001, 0.002, 0.010])
    assert (spread.count, spread.p50, spread.p99, spread.max) == (4, 0.002, 0.010, 0.010)
    ms = spread.scaled(1000)
    assert (ms.p50, ms.p95, ms.max) == pytest.approx((2.0, 10.0, 10.0))
    assert "p99 10 ms" in ms.describe("ms")
