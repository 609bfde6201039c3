"""What the journal writer reports, without knowing who counts it (the engine's
Prometheus metrics, or :data:`NO_METRICS`). The hook is cheap and never raises."""

from __future__ import annotations

from typing import Final, Literal, Protocol

JournalErrorKind = Literal[
    "journal_write",  # a journal write failed (each retry counts) or was refused
    "journal_dropped",  # a call record dropped: the journal's buffer was full or closed
]


class JournalMetrics(Protocol):
    def error(self, kind: JournalErrorKind) -> None:
        """One error of ``kind``."""


class _NoMetrics:
    def error(self, kind: JournalErrorKind) -> None:
        pass


NO_METRICS: Final[JournalMetrics] = _NoMetrics()
