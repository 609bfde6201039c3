"""Subscriber data and shared counters in the engine's database (SQLite or PostgreSQL).

``await SqlBackend.connect(url)`` checks the database can be reached and returns a backend
that is both a ``SubscriberBackend`` and ``Counters``. The tables come from the migrations
(``ivr_engine.db_schema.upgrade``), never from the backend.
Every database failure or timeout becomes a ``BackendError`` with a short reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from ground.database import ClosesOnExit, make_engine
from ivr_engine.data.backend import (
    BackendError,
    Profile,
    TopupResult,
    UnknownSubscriber,
    check_query_kind,
)
from ivr_engine.data.hashing import card_key, check_password, is_card_pin, is_password
from ivr_engine.data.numbers import classify_number, normalise_number
from ivr_engine.data.tables import (
    BlacklistRow,
    CounterRow,
    SubscriberRow,
    TopupCardRow,
    to_yuan,
)

_SUBSCRIBERS = SubscriberRow.__table__
_BLACKLIST = BlacklistRow.__table__
# One subscriber by number; whether a number is on the blacklist now.
_SUBSCRIBER = select(_SUBSCRIBERS).where(_SUBSCRIBERS.c.number == bindparam("number"))
_LISTED = select(_BLACKLIST.c.number).where(
    _BLACKLIST.c.number == bindparam("number"),
    or_(_BLACKLIST.c.expires_at.is_(None), _BLACKLIST.c.expires_at > bindparam("now")),
)


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SqlBackend(ClosesOnExit):
    """``SubscriberBackend`` and ``Counters`` on SQLAlchemy async; ``timeout`` per operation."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self._engine: AsyncEngine = make_engine(
            url, connect_timeout=timeout, command_timeout=timeout
        )
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False)
        self._timeout = timeout

    @classmethod
    async def connect(cls, url: str, *, timeout: float = 5.0) -> SqlBackend:
        """A backend that reached its database; BackendError if it cannot."""
        backend = cls(url, timeout=timeout)
        try:
            async with backend._guard("connect"), backend._engine.connect():
                pass
        except BaseException:
            await backend.close()
            raise
        return backend

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        await self._engine.dispose()

    @asynccontextmanager
    async def _guard(self, action: str) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._timeout):
                yield
        except TimeoutError:
            raise BackendError(f"database timeout ({action})") from None
        except (SQLAlchemyError, OSError) as exc:
            raise BackendError(f"database error ({action}): {type(exc).__name__}") from exc

    # -- SubscriberBackend ------------------------------------------------------------------

    async def profile(self, number: str) -> Profile:
        national = normalise_number(number)
        now = datetime.now(UTC)
        # Core statements built once, on one connection: every call of the hotline comes
        # here, and the ORM's session and identity map cost more than the queries.
        async with self._guard("profile"), self._engine.connect() as conn:
            row = (await conn.execute(_SUBSCRIBER, {"number": national})).first()
            listed = await conn.execute(_LISTED, {"number": national, "now": now})
            blacklisted = listed.first() is not None
        if row is None:
            return Profile.unknown(national, blacklisted=blacklisted)
        return Profile(
            number=national,
            known=True,
            brand=row.brand,
            vip=row.vip,
            vip_level=row.vip_level,
            arpu=to_yuan(row.arpu_fen),
            home_region=row.home_region,
            status=row.status,
            blacklisted=blacklisted,
            network=classify_number(national),
            package=row.package,
        )

    async def query(self, number: str, what: str) -> dict[str, Any]:
        check_query_kind(what)
        async with self._guard("query"), self._engine.connect() as conn:
            found = await conn.execute(_SUBSCRIBER, {"number": normalise_number(number)})
            row = found.first()
        if row is None:
            raise UnknownSubscriber("not a subscriber")
        if what == "balance":
            return {"balance": to_yuan(row.balance_fen)}
        if what == "charges":
            return {"charges": to_yuan(row.charges_fen)}
        if what == "package":
            return {
                "package": row.package,
                "minutes_left": max(0, row.minutes_total - row.minutes_used),
                "data_left_mb": max(0, row.data_total_mb - row.data_used_mb),
                "minutes_total": row.minutes_total,
                "data_total_mb": row.data_total_mb,
            }
        if what == "bill":
            return {
                "month": row.bill_month,
                "total": to_yuan(row.bill_total_fen),
                "paid": row.bill_paid,
            }
        return {"points": row.points}

    async def verify_password(self, number: str, password: str) -> bool:
        query = select(SubscriberRow.password_hash).where(
            SubscriberRow.number == normalise_number(number)
        )
        async with self._guard("verify-password"), self._engine.connect() as conn:
            stored = await conn.scalar(query)
        if not is_password(password):
            return False
        return await asyncio.to_thread(check_password, password, stored)

    async def topup(self, number: str, card_pin: str) -> TopupResult:
        """Use the card once (concurrent uses: one wins) and credit it, in one transaction."""
        national = normalise_number(number)
        if not is_card_pin(card_pin):
            return TopupResult(False, None, "card-invalid")
        key = await asyncio.to_thread(card_key, card_pin)
        try:
            async with self._guard("topup"), self._engine.begin() as conn:
                # Write first: on SQLite this takes the write lock before anything is read.
                use_card = (
                    update(TopupCardRow)
                    .where(TopupCardRow.pin_hash == key, TopupCardRow.used_by.is_(None))
                    .values(used_by=national, used_at=datetime.now(UTC))
                    .returning(TopupCardRow.amount_fen)
                )
                amount = (await conn.execute(use_card)).scalar_one_or_none()
                if amount is None:
                    known = select(TopupCardRow.pin_hash).where(TopupCardRow.pin_hash == key)
                    exists = (await conn.scalar(known)) is not None
                    raise _Refused("card-used" if exists else "card-invalid")
                balance = SubscriberRow.balance_fen + amount
                credit = (
                    update(SubscriberRow)
                    .where(SubscriberRow.number == national, SubscriberRow.status != "suspended")
                    .values(
                        balance_fen=balance,
                        status=case(
                            (
                                and_(SubscriberRow.status == "half-suspended", balance >= 0),
                                "active",
                            ),
                            else_=SubscriberRow.status,
                        ),
                    )
                    .returning(SubscriberRow.balance_fen)
                )
                new_balance = (await conn.execute(credit)).scalar_one_or_none()
                if new_balance is None:  # roll back: the card stays unused
                    status = select(SubscriberRow.status).where(SubscriberRow.number == national)
                    found = (await conn.scalar(status)) is not None
                    raise _Refused("account-suspended" if found else "unknown-subscriber")
        except _Refused as refused:
            return TopupResult(False, None, refused.reason)
        return TopupResult(True, to_yuan(new_balance), "ok")

    async def set_suspended(self, number: str, suspended: bool) -> bool:
        """Suspend any line; resume only a suspended line not in arrears (balance >= 0)."""
        national = normalise_number(number)
        change = update(SubscriberRow).where(SubscriberRow.number == national)
        if suspended:
            change = change.values(status="suspended")
        else:
            change = change.where(
                SubscriberRow.status.in_(("suspended", "active")), SubscriberRow.balance_fen >= 0
            ).values(status="active")
        async with self._guard("suspend" if suspended else "resume"), self._engine.begin() as conn:
            changed = (await conn.execute(change.returning(SubscriberRow.number))).first()
        return changed is not None

    # -- Counters ---------------------------------------------------------------------------

    async def get(self, name: str, key: str, period: str = "") -> int:
        query = select(CounterRow.value).where(*_counter(name, key, period))
        async with self._guard("counter"), self._engine.connect() as conn:
            value = await conn.scalar(query)
        return int(value or 0)

    async def increment(self, name: str, key: str, period: str = "") -> int:
        """One atomic upsert: INSERT ... ON CONFLICT DO UPDATE SET value = value + 1 RETURNING."""
        values = {"name": name, "key": key, "period": period, "value": 1}
        keys = [CounterRow.name, CounterRow.key, CounterRow.period]
        bump = {"value": CounterRow.value + 1}
        async with self._guard("counter"), self._engine.begin() as conn:
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            stmt = (
                insert(CounterRow)
                .values(values)
                .on_conflict_do_update(index_elements=keys, set_=bump)
                .returning(CounterRow.value)
            )
            value = (await conn.execute(stmt)).scalar_one()
        return int(value)

    async def reset(self, name: str, key: str, period: str = "") -> None:
        async with self._guard("counter"), self._engine.begin() as conn:
            await conn.execute(delete(CounterRow).where(*_counter(name, key, period)))


def _counter(name: str, key: str, period: str) -> tuple[Any, ...]:
    return (CounterRow.name == name, CounterRow.key == key, CounterRow.period == period)
