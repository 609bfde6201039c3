"""Percentiles of recorded samples, for the benchmarks that report latencies.

Percentiles are taken by the nearest-rank method on the sorted samples: p99 of 1,000
samples is the 990th smallest, a value that was really measured (no interpolation).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0 < q <= 100) of samples already sorted ascending.

    Nearest rank: the smallest sample such that at least ``q`` % of the samples are less
    than or equal to it. NaN for no samples.
    """
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    if not ordered:
        return math.nan
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class Spread:
    """p50 / p95 / p99 / max of a set of samples, in the samples' unit."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: Iterable[float]) -> Spread:
        ordered = sorted(samples)
        top = ordered[-1] if ordered else math.nan
        return cls(
            len(ordered),
            percentile(ordered, 50),
            percentile(ordered, 95),
            percentile(ordered, 99),
            top,
        )

    def scaled(self, factor: float) -> Spread:
        """The same spread in another unit (e.g. 1000 for seconds -> milliseconds)."""
        return Spread(
            self.count, self.p50 * factor, self.p95 * factor, self.p99 * factor, self.max * factor
        )

    def describe(self, unit: str) -> str:
        return (
            f"p50 {self.p50:.3g} {unit}, p95 {self.p95:.3g} {unit}, p99 {self.p99:.3g} {unit}, "
            f"max {self.max:.3g} {unit} over {self.count:,} samples"
        )
