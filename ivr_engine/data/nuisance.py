"""Nuisance callers: a number that calls more than ``max_calls`` times in ``window_min``
minutes is put on the blacklist for ``block_min`` minutes (``nuisance:`` in the settings).

Every hotline call is counted when it enters (``NuisanceGuard.screen``), in the engine's
database, so every engine instance on that database counts together: one row per call in
the shared ``counters`` table (name ``nuisance``, key the national number, period the
call's time in milliseconds and a random tag), in a sliding window: the calls of the last
``window_min`` minutes are the rows with a later period. Older rows are deleted as the
number calls again, and for every number now and then. One number's calls are counted one
after the other (PostgreSQL: an advisory lock per number; SQLite: its write lock), so of
calls arriving together exactly ``max_calls`` pass.

The call that goes over the limit puts the number on the blacklist, in the table the
screening reads (the subscriber database's ``blacklist``; the engine's own when the
subscriber data is in a CRM), with the reason ``nuisance: N calls in M min`` and an
expiry. That call and the following ones until the expiry are refused as blacklisted
callers are (the menu's ``profile.blacklisted`` branch); they are not counted meanwhile.
A number already on the blacklist for another reason is not counted either.

If the database cannot be reached the call is let through: the guard never turns a
database outage into refused callers, and after a failure it lets calls through unchecked
for ``OUTAGE_PAUSE`` seconds, so that callers do not each wait for the database to fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.clock import utc_now
from ground.database import make_engine
from ivr_engine.data.numbers import normalise_number
from ivr_engine.data.tables import BlacklistRow, CounterRow
from ivr_engine.settings import NuisanceSettings, Settings

log = logging.getLogger(__name__)

COUNTER = "nuisance"
REASON_PREFIX = "nuisance:"
PURGE_EVERY = timedelta(minutes=10)  # old rows of numbers that stopped calling
OUTAGE_PAUSE = 10.0  # seconds calls go unchecked after the database failed a check
NEWLY_BLOCKED = ", blocked now"  # the journal step of the call that put the number on the list
_MIN_DIGITS = 5  # shorter caller ids (extensions, "anonymous") are not counted
_LOCK_SPACE = 0x4E55  # "NU": the advisory locks of the counts (SQLite: its write lock)


@dataclass(frozen=True)
class Verdict:
    """A refused call: why, until when, and whether this call put the number on the list."""

    reason: str
    until: datetime | None
    new: bool

    def describe(self) -> str:
        until = self.until.isoformat(timespec="seconds") if self.until else "no expiry"
        return f"{self.reason} (until {until}){NEWLY_BLOCKED if self.new else ''}"


def nuisance_reason(settings: NuisanceSettings) -> str:
    return f"{REASON_PREFIX} {settings.max_calls} calls in {settings.window_min:g} min"


def _lock_key(national: str) -> int:
    """The number's advisory lock (PostgreSQL), a signed 32-bit int."""
    return int.from_bytes(hashlib.sha256(national.encode()).digest()[:4], "big", signed=True)


def _period(at: datetime) -> str:
    """A counter period that sorts as time does (milliseconds since the epoch)."""
    return f"{int(at.timestamp() * 1000):015d}"


class NuisanceGuard:
    """Counts calls per number and blacklists the ones over the limit.

    ``counters``: the engine's database; ``blacklist``: the database whose ``blacklist``
    table the screening reads (may be the same engine). ``on_block`` is called once per
    number put on the list (the engine counts it in its metrics)."""

    def __init__(
        self,
        settings: NuisanceSettings,
        counters: AsyncEngine,
        blacklist: AsyncEngine,
        *,
        clock: Callable[[], datetime] = utc_now,
        timeout: float = 2.0,
        on_block: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.counters = counters
        self.blacklist = blacklist
        self.clock = clock
        self.timeout = timeout
        self.on_block = on_block
        self.reason = nuisance_reason(settings)
        self.blocked = 0  # numbers put on the list by this guard
        self._exempt = frozenset(normalise_number(n) for n in settings.exempt)
        self._next_purge: datetime | None = None
        self._resume_at = 0.0  # time.monotonic() of the next check after a failure

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        blacklist_url: str | None,
        *,
        on_block: Callable[[], None] = lambda: None,
    ) -> AsyncIterator[NuisanceGuard]:
        """The guard on the engine's database, and ``blacklist_url`` (None: the engine's
        own, when the subscriber data is in a CRM); its database engines closed after."""
        timeout = settings.backend.timeout
        url = settings.database_url()
        counters = make_engine(url, connect_timeout=timeout, command_timeout=timeout)
        blacklist = counters
        if blacklist_url is not None and blacklist_url != url:
            blacklist = make_engine(blacklist_url, connect_timeout=timeout, command_timeout=timeout)
        try:
            yield cls(settings.nuisance, counters, blacklist, timeout=timeout, on_block=on_block)
        finally:
            if blacklist is not counters:
                await blacklist.dispose()
            await counters.dispose()

    async def screen(self, number: str) -> Verdict | None:
        """Count this call from ``number``; a Verdict when the call is to be refused."""
        national = normalise_number(number)
        if (
            len(national) < _MIN_DIGITS
            or not national.isascii()
            or not national.isdigit()
            or national in self._exempt
        ):
            return None
        if time.monotonic() < self._resume_at:
            return None  # the database failed a moment ago: no caller waits for it again
        try:
            async with asyncio.timeout(self.timeout):
                return await self._screen(national)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            self._resume_at = time.monotonic() + OUTAGE_PAUSE
            log.warning(
                "nuisance check skipped for %s: %s (calls go on unchecked for %.0f s)",
                national,
                type(exc).__name__,
                OUTAGE_PAUSE,
            )
            return None

    async def _screen(self, national: str) -> Verdict | None:
        now = self.clock()
        listed = await self._listed(national, now)
        if listed is not None:
            reason, until = listed
            if reason.startswith(REASON_PREFIX):
                return Verdict(reason, until, new=False)
            return None  # blacklisted for another reason: the screening refuses it anyway
        calls = await self._count(national, now)
        if calls <= self.settings.max_calls:
            return None
        until = now + timedelta(minutes=self.settings.block_min)
        if await self._block(national, now, until):
            self.blocked += 1
            self.on_block()
            log.warning(
                "nuisance caller %s blacklisted until %s: %d calls in %g min",
                national,
                until.isoformat(timespec="seconds"),
                calls,
                self.settings.window_min,
            )
        return Verdict(self.reason, until, new=True)

    async def _listed(self, national: str, now: datetime) -> tuple[str, datetime | None] | None:
        """The live blacklist entry of the number: (reason, expiry), or None."""
        table = BlacklistRow.__table__
        query = select(table.c.reason, table.c.expires_at).where(table.c.number == national)
        async with self.blacklist.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None or (row.expires_at is not None and row.expires_at <= now):
            return None
        return row.reason or "", row.expires_at

    async def _count(self, national: str, now: datetime) -> int:
        """Add this call and return the number's calls within the window (this one too)."""
        start = _period(now - timedelta(minutes=self.settings.window_min))
        tag = f"{_period(now)}-{secrets.token_hex(4)}"
        mine = (CounterRow.name == COUNTER, CounterRow.key == national)
        async with self.counters.begin() as conn:
            if conn.dialect.name == "postgresql":  # one number's calls one after the other
                lock = select(func.pg_advisory_xact_lock(_LOCK_SPACE, _lock_key(national)))
                await conn.execute(lock)
            await conn.execute(
                insert(CounterRow).values(name=COUNTER, key=national, period=tag, value=1)
            )
            await conn.execute(delete(CounterRow).where(*mine, CounterRow.period < start))
            calls = await conn.scalar(
                select(func.count())
                .select_from(CounterRow)
                .where(*mine, CounterRow.period >= start)
            )
            if self._next_purge is None or now >= self._next_purge:
                self._next_purge = now + PURGE_EVERY
                await conn.execute(
                    delete(CounterRow).where(CounterRow.name == COUNTER, CounterRow.period < start)
                )
        return int(calls or 0)

    async def _block(self, national: str, now: datetime, until: datetime) -> bool:
        """Put the number on the list; False when it was listed meanwhile (another call or
        instance, or staff)."""
        row = BlacklistRow
        try:
            async with self.blacklist.begin() as conn:
                # An expired entry gives way to the new one, as the blacklist API does.
                replaced = await conn.execute(
                    update(row)
                    .where(row.number == national, row.expires_at.is_not(None))
                    .where(row.expires_at <= now)
                    .values(reason=self.reason, expires_at=until)
                )
                if not replaced.rowcount:
                    await conn.execute(
                        insert(row).values(number=national, reason=self.reason, expires_at=until)
                    )
        except IntegrityError:
            return False
        return True
