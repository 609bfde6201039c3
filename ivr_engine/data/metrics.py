"""What a subscriber backend's failures report, without knowing who counts them (the
engine's Prometheus metrics). The hook is cheap and never raises."""

from __future__ import annotations

from typing import Literal, Protocol

BackendErrorKind = Literal[
    "backend",  # a subscriber-system call failed, or the circuit breaker refused it
]


class BackendMetrics(Protocol):
    def error(self, kind: BackendErrorKind) -> None:
        """One error of ``kind``."""
