"""What the ACD reports, without knowing who counts it (the engine's Prometheus metrics,
or :data:`NO_METRICS`). Every hook is cheap and never raises."""

from __future__ import annotations

from typing import Final, Literal, Protocol

AcdErrorKind = Literal[
    "acd_database",  # the ACD could not reach its database
]


class AcdMetrics(Protocol):
    def error(self, kind: AcdErrorKind) -> None:
        """One error of ``kind``."""

    def acd_pass(self, seconds: float) -> None:
        """One ACD reservation pass that had calls and free agents to match."""

    def acd_decision(self, seconds: float) -> None:
        """Choosing the agent for one waiting call, within a pass."""


class _NoMetrics:
    def error(self, kind: AcdErrorKind) -> None:
        pass

    def acd_pass(self, seconds: float) -> None:
        pass

    def acd_decision(self, seconds: float) -> None:
        pass


NO_METRICS: Final[AcdMetrics] = _NoMetrics()
