"""Small statistics for the ACD benchmarks: percentiles of recorded samples, a mean with its
confidence interval, and the growth exponent of a latency curve."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["growth_exponent", "mean_ci", "percentile"]

_Z95 = 1.959963984540054  # two-sided 95 % of the normal distribution


def percentile(samples: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile (0-100) of ``samples``, interpolating linearly between the
    two nearest ranks (as numpy's default does); NaN for no samples."""
    if not 0 <= pct <= 100:
        raise ValueError(f"a percentile lies between 0 and 100, not {pct}")
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """The mean of independent ``values`` and the half-width of its 95 % confidence
    interval (normal approximation; the values are replication means)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    mean = sum(values) / n
    if n == 1:
        return mean, math.inf
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, _Z95 * math.sqrt(variance / n)


def growth_exponent(sizes: Sequence[float], values: Sequence[float]) -> float:
    """The slope of log(value) against log(size), least squares: 1 means linear growth,
    0 means none."""
    if len(sizes) != len(values) or len(sizes) < 2:
        raise ValueError("need at least two (size, value) points")
    xs = [math.log(s) for s in sizes]
    ys = [math.log(v) for v in values]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError("the sizes must not all be equal")
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
