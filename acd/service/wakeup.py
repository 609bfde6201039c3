"""Wake the other engine instances at once when something routable changes (PostgreSQL).

Every ACD transaction that makes a decision possible (a call enters, an agent frees up, a
reservation is made for another instance's call) ends with ``NOTIFY ivr_acd``; PostgreSQL
delivers it when the transaction commits. Each instance keeps one listening connection and
runs a matching pass when a notification arrives. Polling (``acd.poll_interval``) stays
as the safety net: a lost listening connection only makes the other instances slower,
never wrong. SQLite has one engine per database, so there is nobody to wake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

__all__ = ["CHANNEL", "PgWakeup", "asyncpg_dsn"]

CHANNEL = "ivr_acd"
RETRY_S = 2.0


def asyncpg_dsn(url: str) -> str:
    """The plain ``postgresql://`` DSN asyncpg takes, from a SQLAlchemy URL."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


class PgWakeup:
    """One LISTEN connection, reconnected when it drops; calls ``on_wake`` per notification."""

    def __init__(self, url: str, on_wake: Callable[[], None], *, timeout: float = 5.0) -> None:
        self.dsn = asyncpg_dsn(url)
        self.on_wake = on_wake
        self.timeout = timeout
        self.listening = False
        self.notifications = 0

    def _notified(self, *_args: Any) -> None:
        self.notifications += 1
        self.on_wake()

    async def run(self) -> None:
        while True:
            try:
                await self._listen_once()
                log.warning("ACD wake-up connection lost; polling meanwhile")
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                log.warning("ACD wake-up connection failed (%s); polling meanwhile", exc)
            finally:
                self.listening = False
            await asyncio.sleep(RETRY_S)

    async def _listen_once(self) -> None:
        """Listen until the connection drops."""
        lost = asyncio.Event()
        conn: Any = await asyncpg.connect(self.dsn, timeout=self.timeout)
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await asyncio.wait_for(conn.add_listener(CHANNEL, self._notified), self.timeout)
            self.listening = True
            self.on_wake()  # changes made while nobody listened
            await lost.wait()
        finally:
            if not conn.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), self.timeout)
