"""A waiting call's handle in the engine that holds the caller: what the ACD offers it.

The caller's FastAGI session keeps its :class:`Ticket` while it waits. The ACD sets
``offer`` when it has reserved an agent for the call (in this instance's matching pass, or
seen in the database after another instance's); the session then dials that agent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

__all__ = ["Offer", "Ticket"]


@dataclass(frozen=True)
class Offer:
    """An agent reserved for a call: dial ``endpoint`` (``PJSIP/8001``)."""

    agent_id: str
    endpoint: str


@dataclass
class Ticket:
    call_id: str
    queue: str
    priority: int
    entered_at: float
    caller: str = ""
    queued_at: float = 0.0  # when it joined its current queue (escalation, max wait)
    offer: Offer | None = None
    answered_at: float | None = None
    done: bool = False
    _offered: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def __post_init__(self) -> None:
        self.queued_at = self.queued_at or self.entered_at

    def give(self, offer: Offer) -> None:
        if self.offer is None and not self.done:
            self.offer = offer
            self._offered.set()

    def take_back(self) -> None:
        self.offer = None
        self._offered.clear()

    async def wait_offer(self, timeout: float) -> Offer | None:
        """The offer, waiting at most ``timeout`` seconds for one."""
        if self.offer is None:
            try:
                await asyncio.wait_for(self._offered.wait(), timeout)
            except TimeoutError:
                return None
        return self.offer
