"""What the AMI link reports, without knowing who counts it (the engine's Prometheus
metrics, or :data:`NO_METRICS`). The hook is cheap and never raises."""

from __future__ import annotations

from typing import Final, Literal, Protocol

AmiErrorKind = Literal[
    "ami_action",  # an AMI action not sent (link down) or not answered in time
    "ami_protocol",  # an AMI message from Asterisk dropped: too long, or unreadable
]


class AmiMetrics(Protocol):
    def error(self, kind: AmiErrorKind) -> None:
        """One error of ``kind``."""


class _NoMetrics:
    def error(self, kind: AmiErrorKind) -> None:
        pass


NO_METRICS: Final[AmiMetrics] = _NoMetrics()
