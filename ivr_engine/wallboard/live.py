"""How many calls one FastAGI route is serving right now.

The engine wraps its ``hotline`` route handler with :meth:`LiveSessions.counting`, so the
wallboard can show the callers on the hotline this moment (in the menus, waiting for an
agent or talking to one). The count is of this engine instance only.
"""

from __future__ import annotations

import inspect

from ivr_engine.agi.server import Handler
from ivr_engine.agi.session import AgiSession


class LiveSessions:
    """Counts the sessions of a wrapped handler that have started and not ended yet."""

    def __init__(self) -> None:
        self.live = 0
        self.started = 0

    def counting(self, handler: Handler) -> Handler:
        """``handler``, counting its sessions while they run (whatever way they end)."""

        async def run(session: AgiSession) -> None:
            self.live += 1
            self.started += 1
            try:
                result = handler(session)
                if inspect.isawaitable(result):
                    await result
            finally:
                self.live -= 1

        return run
