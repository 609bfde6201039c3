"""Percentiles, confidence intervals and growth exponents of the ACD benchmarks."""

from __future__ import annotations

import math
import random

import pytest

from bench.acd_stats import growth_exponent, mean_ci, percentile


def test_percentiles_interpolate_between_ranks() -> None:
    samples = [5.0, 1.0, 4.0, 2.0, 3.0]  # unsorted on purpose
    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 50) == 3.0
    assert percentile(samples, 100) == 5.0
    assert percentile(samples, 25) == 2.0
    assert percentile(samples, 90) == pytest.approx(4.6)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_the_99th_percentile_of_a_hundred_and_one_values() -> None:
    values = [float(v) for v in range(101)]
    random.Random(1).shuffle(values)
    assert percentile(values, 99) == 99.0
    assert percentile(values, 95) == 95.0


def test_percentiles_outside_0_to_100_are_refused() -> None:
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_mean_and_confidence_interval() -> None:
    mean, half = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    # sample sd = sqrt(5/3); 1.96 * sd / sqrt(4)
    assert half == pytest.approx(1.959964 * math.sqrt(5 / 3) / 2, rel=1e-6)
    assert mean_ci([3.0])[1] == math.inf


def test_growth_exponent_of_power_laws() -> None:
    sizes = [100.0, 1000.0, 3000.0, 10000.0]
    assert growth_exponent(sizes, [2 * s for s in sizes]) == pytest.approx(1.0)
    assert growth_exponent(sizes, [5.0 * math.sqrt(s) for s in sizes]) == pytest.approx(0.5)
    assert growth_exponent(sizes, [3.0] * 4) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        growth_exponent([1.0], [1.0])
