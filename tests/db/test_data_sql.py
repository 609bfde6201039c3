"""SqlBackend on a real SQLite file and a real PostgreSQL database, with the demo data."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from ivr_engine.data import BackendError, Profile, TopupResult, UnknownSubscriber
from ivr_engine.data.demo import load_demo
from ivr_engine.data.sql import SqlBackend
from ivr_engine.data.tables import (
    BlacklistRow,
    CounterRow,
    SubscriberRow,
    TopupCardRow,
    to_fen,
)
from tests.db.conftest import sqlite_url

VIP, GOTONE, GOTONE58, MZONE, EASYOWN = (
    "13800138000",
    "13900139000",
    "13500135000",
    "15000150000",
    "15800158000",
)
ROAMER, ARREARS, SUSPENDED, ARPU_VIP, UNBLOCKED = (
    "18800188000",
    "18200182000",
    "18700187000",
    "14700147000",
    "15100151000",
)
CARD_50, CARD_50B, CARD_100, USED_CARD = (
    "1000200030004000",
    "1000200030004001",
    "20003000400050006",
    "9000800070006000",
)


@pytest.fixture
async def backend(data_db_url: str) -> AsyncIterator[SqlBackend]:
    assert await load_demo(data_db_url) == 10
    store = await SqlBackend.connect(data_db_url)
    yield store
    await store.close()


async def set_balance(backend: SqlBackend, number: str, yuan: str) -> None:
    async with backend.engine.begin() as conn:
        await conn.execute(
            update(SubscriberRow)
            .where(SubscriberRow.number == number)
            .values(balance_fen=to_fen(Decimal(yuan)))
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_demo_load_is_idempotent(data_db_url: str) -> None:
    assert await load_demo(data_db_url) == 10
    async with SqlBackend(data_db_url) as backend:
        assert (await backend.topup(GOTONE, CARD_50)).ok
        assert await backend.set_suspended(VIP, True)
        await backend.increment("password-failures", GOTONE)

        assert await load_demo(data_db_url) == 10  # back to the file's state

        assert (await backend.query(GOTONE, "balance"))["balance"] == Decimal("45.80")
        assert (await backend.profile(VIP)).status == "active"
        assert (await backend.topup(VIP, CARD_50)).ok  # the card is unused again
        assert await backend.get("password-failures", GOTONE) == 1  # counters are not demo rows
        async with backend.engine.connect() as conn:
            counts = [
                await conn.scalar(select(func.count()).select_from(table))
                for table in (SubscriberRow, BlacklistRow, TopupCardRow)
            ]
        assert counts == [10, 3, 6]


async def test_profiles_of_each_demo_kind(backend: SqlBackend) -> None:
    expected = {
        VIP: ("gotone", True, 3, "268.00", "beijing", "active", "gotone-128"),
        GOTONE: ("gotone", False, 0, "96.50", "beijing", "active", "gotone-88"),
        GOTONE58: ("gotone", False, 0, "61.00", "beijing", "active", "gotone-58"),
        MZONE: ("mzone", False, 0, "38.00", "beijing", "active", "mzone-28"),
        EASYOWN: ("easyown", False, 0, "22.00", "beijing", "active", ""),
        ROAMER: ("gotone", False, 0, "90.00", "shanghai", "active", "gotone-88"),
        ARREARS: ("easyown", False, 0, "30.00", "beijing", "half-suspended", ""),
        SUSPENDED: ("mzone", False, 0, "28.00", "beijing", "suspended", "mzone-28"),
        ARPU_VIP: ("gotone", False, 0, "152.00", "beijing", "active", "gotone-128"),
        UNBLOCKED: ("easyown", False, 0, "25.00", "beijing", "active", ""),
    }
    for number, (brand, vip, level, arpu, region, status, package) in expected.items():
        assert await backend.profile(number) == Profile(
            number=number,
            known=True,
            brand=brand,
            vip=vip,
            vip_level=level,
            arpu=Decimal(arpu),
            home_region=region,
            status=status,
            blacklisted=False,
            network="on-net",
            package=package,
        ), number
    assert (await backend.profile("+86" + VIP)).number == VIP


async def test_unknown_and_blacklisted_callers(backend: SqlBackend) -> None:
    for number in ("13300133000", "18600186000", "13490134900", "01012345678"):
        assert await backend.profile(number) == Profile.unknown(number)
    nuisance = await backend.profile("0086 13400134000")
    assert (nuisance.known, nuisance.blacklisted, nuisance.network) == (False, True, "on-net")
    assert (await backend.profile("15200152000")).blacklisted  # until 2099
    assert not (await backend.profile(UNBLOCKED)).blacklisted  # expired in 2025


async def test_blacklist_expiry(backend: SqlBackend) -> None:
    async def expire(minutes: int) -> None:
        async with backend.engine.begin() as conn:
            await conn.execute(
                update(BlacklistRow)
                .where(BlacklistRow.number == "15200152000")
                .values(expires_at=datetime.now(UTC) + timedelta(minutes=minutes))
            )

    await expire(1)
    assert (await backend.profile("15200152000")).blacklisted
    await expire(-1)
    assert not (await backend.profile("15200152000")).blacklisted


async def test_queries(backend: SqlBackend) -> None:
    assert await backend.query(VIP, "balance") == {"balance": Decimal("356.20")}
    assert await backend.query(VIP, "charges") == {"charges": Decimal("131.40")}
    assert await backend.query(VIP, "package") == {
        "package": "gotone-128",
        "minutes_left": 290,
        "data_left_mb": 280,
        "minutes_total": 420,
        "data_total_mb": 400,
    }
    assert await backend.query(GOTONE58, "package") == {
        "package": "gotone-58",
        "minutes_left": 0,
        "data_left_mb": 0,  # 230 MB used of 200: never negative
        "minutes_total": 50,
        "data_total_mb": 200,
    }
    assert (await backend.query(EASYOWN, "package"))["package"] == ""
    assert await backend.query(ARREARS, "bill") == {
        "month": "2026-10",
        "total": Decimal("53.50"),
        "paid": False,
    }
    assert await backend.query(ARREARS, "balance") == {"balance": Decimal("-23.50")}
    assert await backend.query(VIP, "points") == {"points": 12800}
    with pytest.raises(UnknownSubscriber):
        await backend.query("13300133000", "balance")
    with pytest.raises(ValueError):
        await backend.query(VIP, "itemised")


async def test_password(backend: SqlBackend) -> None:
    assert await backend.verify_password(VIP, "888888")
    assert await backend.verify_password("+86" + GOTONE, "123456")
    assert not await backend.verify_password(VIP, "123456")
    assert not await backend.verify_password(GOTONE, "12345")
    assert not await backend.verify_password(GOTONE, "")
    assert not await backend.verify_password("13300133000", "123456")
    async with backend.engine.connect() as conn:
        stored = await conn.scalar(
            select(SubscriberRow.password_hash).where(SubscriberRow.number == GOTONE)
        )
    assert stored is not None
    assert "123456" not in stored


async def test_topup(backend: SqlBackend) -> None:
    assert await backend.topup(GOTONE, CARD_50) == TopupResult(True, Decimal("95.80"), "ok")
    assert await backend.query(GOTONE, "balance") == {"balance": Decimal("95.80")}
    assert await backend.topup(GOTONE, CARD_50) == TopupResult(False, None, "card-used")
    assert await backend.topup(GOTONE, USED_CARD) == TopupResult(False, None, "card-used")
    assert await backend.topup(GOTONE, "1234123412341234") == TopupResult(
        False, None, "card-invalid"
    )
    assert await backend.topup(GOTONE, "12ab") == TopupResult(False, None, "card-invalid")
    assert await backend.query(GOTONE, "balance") == {"balance": Decimal("95.80")}
    async with backend.engine.connect() as conn:
        used_by = await conn.scalar(
            select(TopupCardRow.used_by).where(TopupCardRow.used_at.is_not(None))
        )
    assert used_by is not None


async def test_topup_refused_leaves_the_card_unused(backend: SqlBackend) -> None:
    assert await backend.topup(SUSPENDED, CARD_100) == TopupResult(False, None, "account-suspended")
    assert await backend.topup("13300133000", CARD_100) == TopupResult(
        False, None, "unknown-subscriber"
    )
    assert await backend.query(SUSPENDED, "balance") == {"balance": Decimal("15.00")}
    assert await backend.topup(MZONE, CARD_100) == TopupResult(True, Decimal("120.00"), "ok")


async def test_topup_lifts_half_suspension_once_the_balance_is_not_negative(
    backend: SqlBackend,
) -> None:
    await set_balance(backend, ARREARS, "-80.00")
    assert await backend.topup(ARREARS, CARD_50) == TopupResult(True, Decimal("-30.00"), "ok")
    assert (await backend.profile(ARREARS)).status == "half-suspended"
    assert await backend.topup(ARREARS, CARD_50B) == TopupResult(True, Decimal("20.00"), "ok")
    assert (await backend.profile(ARREARS)).status == "active"


async def test_concurrent_use_of_one_card_succeeds_once(backend: SqlBackend) -> None:
    callers = [VIP, GOTONE, MZONE, EASYOWN, ARPU_VIP]
    results = await asyncio.gather(*(backend.topup(number, CARD_100) for number in callers))
    assert sorted(r.reason for r in results) == ["card-used"] * 4 + ["ok"]
    winner = callers[[r.ok for r in results].index(True)]
    before = {VIP: "356.20", GOTONE: "45.80", MZONE: "20.00", EASYOWN: "8.60", ARPU_VIP: "210.00"}
    for number in callers:
        credit = 100 if number == winner else 0
        assert (await backend.query(number, "balance"))["balance"] == Decimal(
            before[number]
        ) + credit


async def test_concurrent_top_ups_of_one_account_all_count(backend: SqlBackend) -> None:
    cards = [CARD_50, CARD_50B, CARD_100]
    results = await asyncio.gather(*(backend.topup(EASYOWN, card) for card in cards))
    assert all(r.ok for r in results)
    assert await backend.query(EASYOWN, "balance") == {"balance": Decimal("208.60")}


async def test_suspend_and_resume(backend: SqlBackend) -> None:
    assert await backend.set_suspended(GOTONE, True)
    assert (await backend.profile(GOTONE)).status == "suspended"
    assert await backend.set_suspended(GOTONE, True)  # already: still true
    assert await backend.set_suspended(GOTONE, False)
    assert (await backend.profile(GOTONE)).status == "active"
    assert await backend.set_suspended(SUSPENDED, False)
    assert (await backend.profile(SUSPENDED)).status == "active"
    # Arrears: resuming is refused until a top-up; the line stays as it was.
    assert not await backend.set_suspended(ARREARS, False)
    assert (await backend.profile(ARREARS)).status == "half-suspended"
    assert await backend.set_suspended(ARREARS, True)
    assert not await backend.set_suspended(ARREARS, False)
    assert (await backend.profile(ARREARS)).status == "suspended"
    assert not await backend.set_suspended("13300133000", True)


async def test_counters(backend: SqlBackend) -> None:
    assert await backend.get("password-failures", GOTONE) == 0
    assert await backend.increment("password-failures", GOTONE) == 1
    assert await backend.increment("password-failures", GOTONE) == 2
    assert await backend.increment("password-failures", GOTONE, "2026-10-05") == 1
    assert await backend.increment("calls", GOTONE, "2026-10-05") == 1
    assert await backend.increment("password-failures", VIP) == 1
    assert await backend.get("password-failures", GOTONE) == 2
    assert await backend.get("password-failures", GOTONE, "2026-10-05") == 1
    await backend.reset("password-failures", GOTONE)
    assert await backend.get("password-failures", GOTONE) == 0
    assert await backend.get("password-failures", GOTONE, "2026-10-05") == 1
    await backend.reset("never-counted", GOTONE)
    assert await backend.increment("password-failures", GOTONE) == 1


async def test_concurrent_increments_are_not_lost(data_db_url: str) -> None:
    async with (
        await SqlBackend.connect(data_db_url) as first,
        await SqlBackend.connect(data_db_url) as second,
    ):  # two engine instances, one database
        tasks = [
            (first if i % 2 else second).increment("calls", "10086", "2026-10") for i in range(50)
        ]
        values = await asyncio.gather(*tasks)
        assert sorted(values) == list(range(1, 51))
        assert await first.get("calls", "10086", "2026-10") == 50
        assert await second.get("calls", "10086", "2026-11") == 0


async def test_concurrent_connects(data_db_url: str) -> None:
    backends = await asyncio.gather(*(SqlBackend.connect(data_db_url) for _ in range(3)))
    for backend in backends:
        await backend.close()
    async with await SqlBackend.connect(data_db_url) as backend:
        assert await backend.increment("c", "k") == 1


async def test_unreachable_postgres_is_a_backend_error() -> None:
    url = f"postgresql+asyncpg://ivr:secret-pw@127.0.0.1:{free_port()}/nowhere"
    with pytest.raises(BackendError, match="database error") as caught:
        await SqlBackend.connect(url, timeout=2.0)
    assert "secret-pw" not in str(caught.value)
    async with SqlBackend(url, timeout=2.0) as backend:
        with pytest.raises(BackendError) as failed:
            await backend.topup(GOTONE, CARD_50)
        assert CARD_50 not in str(failed.value)
        with pytest.raises(BackendError):
            await backend.increment("calls", GOTONE)
        with pytest.raises(BackendError):
            await backend.profile(GOTONE)


async def test_unusable_sqlite_file_is_a_backend_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    url = sqlite_url(tmp_path / "not-a-dir" / "data.db")
    with pytest.raises(BackendError, match="database error"):
        await SqlBackend.connect(url)
    async with SqlBackend(url) as backend:
        with pytest.raises(BackendError):
            await backend.verify_password(GOTONE, "123456")


async def test_a_locked_database_times_out(data_db_url: str) -> None:
    async with (
        await SqlBackend.connect(data_db_url) as holder,
        await SqlBackend.connect(data_db_url, timeout=0.5) as impatient,
    ):
        await holder.increment("calls", "k")
        async with holder.engine.begin() as conn:  # holds the row (PostgreSQL) or file lock
            await conn.execute(update(CounterRow).values(value=99))
            started = time.monotonic()
            with pytest.raises(BackendError, match="database"):
                await impatient.increment("calls", "k")
            assert time.monotonic() - started < 2.0
        assert await impatient.increment("calls", "k") == 100
