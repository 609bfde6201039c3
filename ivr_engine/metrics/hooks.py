"""The hooks the engine's parts report to, without knowing about Prometheus.

A part that has something to count (the FastAGI session, the ACD, the AMI link, the journal
writer) takes a :class:`Metrics` and calls it where the thing happens. Without one it gets
:data:`NO_METRICS`, which does nothing. The engine passes its
:class:`~ivr_engine.metrics.engine.EngineMetrics`. Every hook is cheap and never raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal, Protocol, get_args

if TYPE_CHECKING:
    from ivr_engine.agi.session import CommandTrace

ErrorKind = Literal[
    "agi_protocol",  # a FastAGI connection refused, or a reply that is not FastAGI
    "agi_timeout",  # an AGI command got no reply in time
    "journal_write",  # a journal write failed (each retry counts) or was refused
    "journal_dropped",  # a call record dropped: the journal's buffer was full or closed
    "acd_database",  # the ACD could not reach its database
    "ami_action",  # an AMI action not sent (link down) or not answered in time
    "ami_protocol",  # an AMI message from Asterisk dropped: too long, or unreadable
    "backend",  # a subscriber-system call failed, or the circuit breaker refused it
]
ERROR_KINDS: Final[tuple[ErrorKind, ...]] = get_args(ErrorKind)


class Metrics(Protocol):
    def agi_command(self, trace: CommandTrace) -> None:
        """One AGI command's round trip (timed, with its error if it failed)."""

    def error(self, kind: ErrorKind) -> None:
        """One error of ``kind``."""

    def acd_pass(self, seconds: float) -> None:
        """One ACD reservation pass that had calls and free agents to match."""

    def acd_decision(self, seconds: float) -> None:
        """Choosing the agent for one waiting call, within a pass."""


class NullMetrics:
    """Counts nothing: for parts run without the engine (tests, the command line)."""

    def agi_command(self, trace: CommandTrace) -> None:
        pass

    def error(self, kind: ErrorKind) -> None:
        pass

    def acd_pass(self, seconds: float) -> None:
        pass

    def acd_decision(self, seconds: float) -> None:
        pass


NO_METRICS: Final[Metrics] = NullMetrics()
