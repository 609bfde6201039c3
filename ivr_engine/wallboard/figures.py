"""What the wallboard shows, as values: the snapshot and its parts.

Waits and times in state are in seconds at the snapshot's moment ``at`` (epoch seconds);
the page counts them up until the next snapshot. The queue and agent figures are the
ACD's live figures (:mod:`acd.figures`), the same as ``GET /queues`` and ``/metrics``
show; the IVR's come from the call journal and from the calls this engine serves now.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "AgentLine",
    "ExitLine",
    "IvrFigures",
    "JournalDay",
    "LiveCalls",
    "QueueLine",
    "Snapshot",
    "Totals",
]


@dataclass(frozen=True)
class LiveCalls:
    """The hotline calls this engine serves now; ``with_acd`` of them are waiting for an
    agent, ringing one or talking to one."""

    on_hotline: int = 0
    with_acd: int = 0


@dataclass(frozen=True)
class QueueLine:
    name: str
    waiting: int
    ringing: int
    callbacks: int
    longest_wait_s: float | None
    answered: int
    abandoned: int
    short_abandoned: int
    service_level_pct: float | None
    agents: dict[str, int]  # state -> agents who can take the queue's calls


@dataclass(frozen=True)
class AgentLine:
    id: str
    name: str
    state: str
    pause_reason: str | None
    pending: str | None  # "log-out" or "pause <reason>" once the call work is over
    since: float
    in_state_s: float
    queue: str | None
    caller: str | None  # masked: 139****9000
    calls_today: int


@dataclass(frozen=True)
class ExitLine:
    outcome: str
    node: str | None  # the last menu node the call was in
    calls: int


@dataclass(frozen=True)
class JournalDay:
    """Today's calls from the journal."""

    calls: int = 0
    ended: int = 0
    top_exits: tuple[ExitLine, ...] = ()


@dataclass(frozen=True)
class IvrFigures:
    in_menus: int
    on_hotline: int
    calls_today: int
    ended_today: int
    top_exits: tuple[ExitLine, ...]


@dataclass(frozen=True)
class Totals:
    waiting: int
    longest_wait_s: float | None
    answered: int
    abandoned: int
    service_level_pct: float | None
    agents: dict[str, int]  # state -> every agent


@dataclass(frozen=True)
class Snapshot:
    at: float
    day: str  # the hotline's date, YYYY-MM-DD
    timezone: str
    service_level: dict[str, Any]
    totals: Totals
    queues: tuple[QueueLine, ...]
    agents: tuple[AgentLine, ...]
    ivr: IvrFigures
    acd_enabled: bool = True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
