"""What a queue node needs from the ACD: a waiting desk, bound to one call.

The queue node decides only through this protocol and the call's channel: whether the
desk serves the node's queue, then how the caller's wait ended. The engine binds an
Asterisk desk to each FastAGI call (``ivr_engine.acd_asterisk.caller``); the simulator
binds a simulated one to its terminal call (``ivr_engine.simulator.desk``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["DeskUnavailable", "Note", "QueueOutcome", "WaitingDesk"]

Note = Callable[[str], None]
"""Takes one line of what happened in the queue, for the call's journal (step ``acd``)."""


@dataclass(frozen=True)
class QueueOutcome:
    """How the wait ended: ``talked`` (``agent`` hung up, caller still here), ``callback``
    (the caller took one and can be let go), ``announce`` (go to ``destination``)."""

    kind: Literal["talked", "callback", "announce"]
    agent: str | None = None
    destination: str | None = None


class DeskUnavailable(Exception):
    """The ACD could not take or keep the call (its database cannot be reached): the call
    is out of the queue, and the node puts it through another way. ``kind`` names the
    cause's type (``OperationalError``), for the journal."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.kind = type(cause).__name__


class WaitingDesk(Protocol):
    """The ACD as one call's queue node sees it."""

    def serves(self, queue: str) -> bool:
        """Whether the ACD knows ``queue`` (config/acd.yaml) and can take the call there."""
        ...

    async def wait(self, call_id: str, queue: str, note: Note) -> QueueOutcome:
        """Hold the caller in ``queue`` until an agent has talked to them, or until the
        queue's max-wait action ends the wait; raises ``DeskUnavailable`` when the ACD
        cannot be reached. A caller who hangs up ends it with the channel's own error."""
        ...
