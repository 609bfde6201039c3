"""Counters of the FastAGI server, read by the health check."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

BAD_CONNECTION_KINDS = ("truncated", "oversized", "garbage", "header_timeout")


@dataclass
class AgiStats:
    """Sessions are connections whose header block was valid.

    ``sessions_started`` = ``sessions_completed + caller_hangups + handler_errors + no_route
    + turned_away + sessions_cancelled + live_sessions`` (``turned_away``: new calls that came
    while the server was stopping, sent to the dialplan's fallback); refused connections
    only count in
    ``bad_connections`` (by kind: truncated, oversized, garbage, header_timeout).
    ``live_by_route``: the live sessions whose route was found, by route (``hotline``...).
    """

    connections_accepted: int = 0
    sessions_started: int = 0
    sessions_completed: int = 0
    caller_hangups: int = 0
    handler_errors: int = 0
    no_route: int = 0
    turned_away: int = 0
    sessions_cancelled: int = 0
    live_sessions: int = 0
    bad_connections: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(BAD_CONNECTION_KINDS, 0)
    )
    live_by_route: dict[str, int] = field(default_factory=dict)

    def count_bad(self, kind: str) -> None:
        self.bad_connections[kind] = self.bad_connections.get(kind, 0) + 1

    @contextlib.contextmanager
    def live_on(self, route: str) -> Iterator[None]:
        """Count a session as live on ``route`` while its handler runs."""
        self.live_by_route[route] = self.live_by_route.get(route, 0) + 1
        try:
            yield
        finally:
            self.live_by_route[route] -= 1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
