"""What the FastAGI server and sessions report, without knowing who counts it.

The engine passes its Prometheus metrics (``ivr_engine.metrics.engine``); without them a
server or session gets :data:`NO_METRICS`. Every hook is cheap and never raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, Protocol

from ivr_engine.agi.protocol import AgiReply

AgiErrorKind = Literal[
    "agi_protocol",  # a FastAGI connection refused, or a reply that is not FastAGI
    "agi_timeout",  # an AGI command got no reply in time
]


@dataclass(frozen=True)
class CommandTrace:
    """What one command did: handed to the session's observer (the call journal) and to
    the engine's metrics."""

    command: str
    reply: AgiReply | None
    started: float  # time.monotonic()
    duration: float
    error: str | None
    error_type: type[BaseException] | None = None


class AgiMetrics(Protocol):
    def agi_command(self, trace: CommandTrace) -> None:
        """One AGI command's round trip (timed, with its error if it failed)."""

    def error(self, kind: AgiErrorKind) -> None:
        """One error of ``kind``."""


class _NoMetrics:
    def agi_command(self, trace: CommandTrace) -> None:
        pass

    def error(self, kind: AgiErrorKind) -> None:
        pass


NO_METRICS: Final[AgiMetrics] = _NoMetrics()
