"""Time for the agent state machine: float seconds since the Unix epoch (UTC).

Every function of :mod:`acd.agents` takes the moment an event happened as ``at`` (or
``now``), a float of epoch seconds, and never reads the clock itself. The live service
passes ``time.time()``, a simulation passes its own clock, tests pass small numbers.
These helpers convert to and from timezone-aware datetimes at the edges (database, API).
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["epoch_seconds", "utc_datetime"]


def epoch_seconds(moment: datetime) -> float:
    """A timezone-aware datetime as epoch seconds; a naive one is refused (ambiguous)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone")
    return moment.timestamp()


def utc_datetime(at: float) -> datetime:
    """Epoch seconds as an aware datetime in UTC."""
    return datetime.fromtimestamp(at, UTC)
