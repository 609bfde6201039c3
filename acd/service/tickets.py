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
    declined: set[str] = field(default_factory=set)  # agents who let it ring out
    supervisor_action: str | None = None  # what a supervisor did to the call, for the journal
    _offered: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def __post_init__(self) -> None:
        self.queued_at = self.queued_at or self.entered_at

    def give(self, offer: Offer) -> None:
        """Take an offer, unless one is in hand or the agent has declined this call (a pass
        that read the row before the ring-out must not hand the old offer back)."""
        if self.offer is None and not self.done and offer.agent_id not in self.declined:
            self.offer = offer
            self._offered.set()

    def take_back(self, declined_by: str | None = None) -> None:
        self.offer = None
        self._offered.clear()
        if declined_by is not None:
            self.declined.add(declined_by)

    async def wait_offer(self, timeout: float) -> Offer | None:
        """The offer, waiting at most ``timeout`` seconds for one."""
        if self.offer is None:
            try:
                await asyncio.wait_for(self._offered.wait(), timeout)
            except TimeoutError:
                return None
        return self.offer
