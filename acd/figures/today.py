"""Today's figures of each queue, from the queue log: calls answered and abandoned since
the hotline's midnight, and the service level they give.

"Today" is the hotline's calendar day (the engine's ``calendar.timezone``) from local
midnight; a call counts on the day its answer or abandon was logged, in the queue it was
in then. **Answered**: every answer logged (a callback's when its agent takes it).
**Abandoned**: every abandon logged, short abandons included; they are counted apart too.
**Service level**: the reports' definition (:class:`ServiceLevelDefinition`, the engine's
``reports.service_level``), each queue judged by its own threshold when
``queue_thresholds`` is set, as the queues report judges it (:func:`queue_definition`).
For several queues together, their tallies add up (:meth:`ServiceLevelDefinition.tally`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from datetime import time as clock_time
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.config import AcdConfig
from acd.service_level import ServiceLevelDefinition, percent
from acd.store.tables import QueueLogRow

__all__ = ["QueueDay", "Today", "day_start", "queue_definition", "read_today"]


def day_start(now: float, timezone: ZoneInfo) -> datetime:
    """Local midnight of the hotline's day that ``now`` (epoch seconds) falls in."""
    local = datetime.fromtimestamp(now, timezone)
    return datetime.combine(local.date(), clock_time(0), tzinfo=timezone)


def queue_definition(
    definition: ServiceLevelDefinition, config: AcdConfig, queue: str
) -> ServiceLevelDefinition:
    """The definition ``queue`` is judged by (its own threshold with ``queue_thresholds``)."""
    settings = config.queues.get(queue)
    return definition.for_queue(None if settings is None else settings.service_level.threshold_s)


@dataclass(frozen=True)
class QueueDay:
    """A queue's day so far (or several queues' together)."""

    answered: int = 0
    abandoned: int = 0  # short abandons included
    short_abandoned: int = 0
    within: int = 0  # answered within the threshold
    counted: int = 0  # calls the service level counts

    @property
    def service_level_pct(self) -> float | None:
        """To a tenth of a percent; None when no call counts (nothing to judge)."""
        value = percent(self.within, self.counted)
        return None if value is None else round(value, 1)

    @property
    def service_level_ratio(self) -> float | None:
        """The same figure as a ratio, 0 to 1, unrounded (Prometheus' unit); None when no
        call counts."""
        return None if self.counted == 0 else self.within / self.counted

    def __add__(self, other: QueueDay) -> QueueDay:
        return QueueDay(
            self.answered + other.answered,
            self.abandoned + other.abandoned,
            self.short_abandoned + other.short_abandoned,
            self.within + other.within,
            self.counted + other.counted,
        )


@dataclass(frozen=True)
class Today:
    """Every queue with an answer or an abandon today."""

    queues: dict[str, QueueDay] = field(default_factory=dict)

    def of(self, queue: str) -> QueueDay:
        return self.queues.get(queue, QueueDay())

    @property
    def total(self) -> QueueDay:
        return sum(self.queues.values(), QueueDay())


@dataclass
class _Classes:
    """A queue's answered and abandoned waits as (representative wait, calls) per class."""

    answered: list[tuple[float, int]] = field(default_factory=list)
    abandoned: list[tuple[float, int]] = field(default_factory=list)

    @staticmethod
    def _expand(classes: Iterable[tuple[float, int]]) -> Iterable[float]:
        for wait, count in classes:
            yield from repeat(wait, count)

    def day(self, definition: ServiceLevelDefinition) -> QueueDay:
        within, counted = definition.tally(
            self._expand(self.answered), self._expand(self.abandoned)
        )
        return QueueDay(
            answered=sum(count for _, count in self.answered),
            abandoned=sum(count for _, count in self.abandoned),
            short_abandoned=sum(c for w, c in self.abandoned if definition.is_short_abandon(w)),
            within=within,
            counted=counted,
        )


async def read_today(
    conn: AsyncConnection,
    since: datetime,
    definition: ServiceLevelDefinition,
    config: AcdConfig,
) -> Today:
    """Each queue's answers and abandons logged since ``since``, grouped in the database.

    Every wait is put in a class by the two comparisons the queue's definition makes
    (answered within the threshold or not; abandoned short, before or after the
    threshold), and one wait per class stands for all of its calls: the definition gives
    the same figure for them as for the calls one by one, without reading a busy day's
    rows one by one.
    """
    wait = func.coalesce(QueueLogRow.wait_s, 0.0)
    threshold = _thresholds(definition, config)
    band = case(
        (QueueLogRow.event == "answer", case((wait <= threshold, "within"), else_="late")),
        (wait < definition.short_abandon_s, "short"),
        (wait > threshold, "after"),
        else_="before",
    )
    lines = (
        select(
            QueueLogRow.queue.label("queue"),
            QueueLogRow.event.label("event"),
            band.label("band"),
            wait.label("wait"),
        )
        .where(QueueLogRow.at >= since, QueueLogRow.event.in_(("answer", "abandon")))
        .subquery()
    )
    query = select(
        lines.c.queue, lines.c.event, lines.c.band, func.min(lines.c.wait), func.count()
    ).group_by(lines.c.queue, lines.c.event, lines.c.band)
    found: dict[str, _Classes] = {}
    for queue, event, _band, least, count in await conn.execute(query):
        classes = found.setdefault(queue, _Classes())
        target = classes.answered if event == "answer" else classes.abandoned
        target.append((float(least), int(count)))
    return Today(
        {
            queue: classes.day(queue_definition(definition, config, queue))
            for queue, classes in found.items()
        }
    )


def _thresholds(definition: ServiceLevelDefinition, config: AcdConfig) -> Any:
    """The threshold each log line's queue is judged by, as an SQL expression."""
    own = {
        name: judged.threshold_s
        for name in config.queues
        if (judged := queue_definition(definition, config, name)).threshold_s
        != definition.threshold_s
    }
    if not own:
        return literal(definition.threshold_s)
    return case(own, value=QueueLogRow.queue, else_=literal(definition.threshold_s))
