"""The service-level definition: which calls count, and the figure it gives.

The industry's usual figure is "X % of calls answered within T seconds":

    answered within T / (answered + abandoned after T)

with short abandons (callers who hung up within a few seconds, before anyone could have
answered) left out. Operators differ on what to do with abandoned calls, so the treatment
is a setting, and every report prints the definition beside the figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AbandonedCount = Literal["after-threshold", "all", "none"]


class ServiceLevelDefinition(BaseModel):
    """How service level is counted (the ``reports.service_level`` settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold_s: float = Field(20.0, gt=0, description="Answered within this many seconds.")
    short_abandon_s: float = Field(
        5.0, ge=0, description="Abandons within this many seconds are left out of every figure."
    )
    abandoned: AbandonedCount = Field(
        "after-threshold",
        description="Abandoned calls in the denominator: those after the threshold, all, none.",
    )
    queue_thresholds: bool = Field(
        False,
        description="Judge each queue by its own threshold (service_level.threshold_s in"
        " config/acd.yaml) instead of threshold_s.",
    )

    def for_queue(self, queue_threshold_s: float | None) -> ServiceLevelDefinition:
        """The definition a queue is judged by: with ``queue_thresholds``, the queue's own
        threshold (when it has one) replaces ``threshold_s``."""
        if not self.queue_thresholds or queue_threshold_s is None:
            return self
        return self.model_copy(update={"threshold_s": float(queue_threshold_s)})

    def describe(self) -> str:
        counted = {
            "after-threshold": f"answered + abandoned after {self.threshold_s:g} s",
            "all": "answered + abandoned",
            "none": "answered",
        }[self.abandoned]
        return (
            f"answered within {self.threshold_s:g} s / ({counted});"
            f" abandons within {self.short_abandon_s:g} s left out"
        )

    def is_short_abandon(self, wait_s: float) -> bool:
        return wait_s < self.short_abandon_s

    def tally(
        self, answered_waits: Iterable[float], abandoned_waits: Iterable[float]
    ) -> tuple[int, int]:
        """(calls answered within the threshold, calls that count): the figure's two terms.
        Tallies of calls judged by different definitions (queues with thresholds of their
        own) add up into one figure, which percentages cannot."""
        answered = list(answered_waits)
        within = sum(1 for wait in answered if wait <= self.threshold_s)
        abandoned = [wait for wait in abandoned_waits if not self.is_short_abandon(wait)]
        if self.abandoned == "after-threshold":
            counted = sum(1 for wait in abandoned if wait > self.threshold_s)
        elif self.abandoned == "all":
            counted = len(abandoned)
        else:
            counted = 0
        return within, len(answered) + counted

    def compute(
        self, answered_waits: Iterable[float], abandoned_waits: Iterable[float]
    ) -> float | None:
        """Service level in percent, or None when no call counts (nothing to judge)."""
        return percent(*self.tally(answered_waits, abandoned_waits))


def percent(within: int, counted: int) -> float | None:
    """The service level of a tally (see :meth:`ServiceLevelDefinition.tally`), in percent;
    None when no call counts."""
    return None if counted == 0 else 100.0 * within / counted
