"""HttpBackend against a real local aiohttp server (FakeCrm)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from ivr_engine.data import BackendError, CircuitBreaker, TopupResult, UnknownSubscriber
from ivr_engine.data.http import HttpBackend
from tests.unit.data.fake_crm import FakeCrm

VIP = "13800138000"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def crm() -> AsyncIterator[FakeCrm]:
    server = FakeCrm()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def backend(crm: FakeCrm) -> AsyncIterator[HttpBackend]:
    client = HttpBackend(crm.base_url, timeout=0.5, retries=2, backoff=0.01)
    yield client
    await client.close()


async def test_profile_of_a_subscriber(backend: HttpBackend, crm: FakeCrm) -> None:
    profile = await backend.profile("+86 138 0013 8000")
    assert crm.hits == [f"GET /subscribers/{VIP}"]
    assert profile.as_dict() == {
        "number": VIP,
        "known": True,
        "brand": "gotone",
        "vip": True,
        "vip_level": 3,
        "arpu": Decimal("268.00"),
        "home_region": "beijing",
        "status": "active",
        "blacklisted": False,
        "network": "on-net",
        "package": "gotone-128",
    }


async def test_404_is_an_unknown_caller(backend: HttpBackend, crm: FakeCrm) -> None:
    profile = await backend.profile("18600186000")
    assert (profile.known, profile.brand, profile.network) == (False, "other", "other")
    assert crm.hits == ["GET /subscribers/18600186000"]
    assert backend.breaker.failures == 0


async def test_queries(backend: HttpBackend) -> None:
    assert await backend.query(VIP, "balance") == {"balance": Decimal("356.20")}
    assert await backend.query(VIP, "charges") == {"charges": Decimal("131.40")}
    assert await backend.query(VIP, "package") == {
        "package": "gotone-128",
        "minutes_left": 290,
        "data_left_mb": 280,
        "minutes_total": 420,
        "data_total_mb": 400,
    }
    assert await backend.query(VIP, "bill") == {
        "month": "2026-10",
        "total": Decimal("268.00"),
        "paid": True,
    }
    assert await backend.query(VIP, "points") == {"points": 12800}


async def test_query_of_an_unknown_number(backend: HttpBackend, crm: FakeCrm) -> None:
    with pytest.raises(UnknownSubscriber):
        await backend.query("13900139000", "balance")
    with pytest.raises(ValueError, match="unknown query"):
        await backend.query(VIP, "itemised")
    assert crm.hits == ["GET /subscribers/13900139000/balance"]


async def test_password(backend: HttpBackend) -> None:
    assert await backend.verify_password(VIP, "888888")
    assert not await backend.verify_password(VIP, "123456")
    assert not await backend.verify_password("13900139000", "888888")


async def test_topup_and_suspension(backend: HttpBackend, crm: FakeCrm) -> None:
    assert await backend.topup(VIP, "1000200030004000") == TopupResult(
        True, Decimal("406.20"), "ok"
    )
    assert await backend.topup(VIP, "1000200030004000") == TopupResult(False, None, "card-invalid")
    assert await backend.topup("13900139000", "1000200030004001") == TopupResult(
        False, None, "unknown-subscriber"
    )
    assert await backend.set_suspended(VIP, True)
    assert crm.suspended
    assert await backend.set_suspended(VIP, False)
    assert not crm.suspended
    assert not await backend.set_suspended("13900139000", True)


async def test_slow_answer_times_out_without_retry(crm: FakeCrm) -> None:
    crm.delay = 0.6
    async with HttpBackend(crm.base_url, timeout=0.2, retries=2, backoff=0.01) as backend:
        with pytest.raises(BackendError, match="timeout"):
            await backend.profile(VIP)
        assert crm.hits == [f"GET /subscribers/{VIP}"]
        assert backend.breaker.failures == 1


async def test_5xx_is_retried_for_gets_then_fails(backend: HttpBackend, crm: FakeCrm) -> None:
    crm.statuses = [500, 502, 503]
    with pytest.raises(BackendError, match="HTTP 503"):
        await backend.query(VIP, "balance")
    assert crm.hits == [f"GET /subscribers/{VIP}/balance"] * 3
    assert backend.breaker.failures == 1  # one failed call, however many attempts


async def test_a_retry_can_succeed(backend: HttpBackend, crm: FakeCrm) -> None:
    crm.statuses = [500, 500]
    assert await backend.query(VIP, "points") == {"points": 12800}
    assert len(crm.hits) == 3
    assert backend.breaker.failures == 0


async def test_posts_are_never_retried(backend: HttpBackend, crm: FakeCrm) -> None:
    crm.statuses = [500, 500, 500]
    with pytest.raises(BackendError, match="HTTP 500"):
        await backend.topup(VIP, "1000200030004000")
    with pytest.raises(BackendError, match="HTTP 500"):
        await backend.verify_password(VIP, "888888")
    assert crm.hits == [
        f"POST /subscribers/{VIP}/topup",
        f"POST /subscribers/{VIP}/verify-password",
    ]


async def test_other_4xx_fail_without_opening_the_breaker(crm: FakeCrm) -> None:
    breaker = CircuitBreaker(failure_threshold=2)
    async with HttpBackend(crm.base_url, retries=0, breaker=breaker) as backend:
        for _ in range(3):
            crm.statuses = [401]
            with pytest.raises(BackendError, match="HTTP 401"):
                await backend.profile(VIP)
        assert breaker.state == "closed"
        assert len(crm.hits) == 3


async def test_malformed_answers_are_failures(backend: HttpBackend, crm: FakeCrm) -> None:
    crm.body = {"balance": "lots"}
    with pytest.raises(BackendError, match="malformed"):
        await backend.query(VIP, "balance")
    crm.body = ["not", "a", "profile"]
    with pytest.raises(BackendError, match="malformed"):
        await backend.profile(VIP)
    assert backend.breaker.failures == 2


async def test_unreachable_server_is_retried_then_fails() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with HttpBackend(f"http://127.0.0.1:{port}", retries=2, backoff=0.01) as backend:
        with pytest.raises(BackendError, match="unreachable"):
            await backend.profile(VIP)
        assert backend.breaker.failures == 1


async def test_breaker_opens_and_fails_fast(crm: FakeCrm) -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, reset_after=30.0, clock=clock)
    async with HttpBackend(crm.base_url, retries=0, breaker=breaker) as backend:
        crm.statuses = [500] * 3
        for _ in range(3):
            with pytest.raises(BackendError, match="HTTP 500"):
                await backend.profile(VIP)
        assert breaker.state == "open"
        assert len(crm.hits) == 3
        for _ in range(5):
            with pytest.raises(BackendError, match="circuit open"):
                await backend.query(VIP, "balance")
        with pytest.raises(BackendError, match="circuit open"):
            await backend.topup(VIP, "1000200030004000")
        assert len(crm.hits) == 3  # the server was not touched
        assert crm.cards  # and no card was used


async def test_half_open_trial_recovers_or_reopens(crm: FakeCrm) -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, reset_after=30.0, clock=clock)
    async with HttpBackend(crm.base_url, retries=0, breaker=breaker) as backend:
        crm.statuses = [503, 503]
        for _ in range(2):
            with pytest.raises(BackendError):
                await backend.profile(VIP)
        clock.now += 30
        assert breaker.state == "half-open"
        crm.statuses = [503]  # the trial fails: open again
        with pytest.raises(BackendError, match="HTTP 503"):
            await backend.profile(VIP)
        assert breaker.state == "open"
        with pytest.raises(BackendError, match="circuit open"):
            await backend.profile(VIP)
        clock.now += 30
        profile = await backend.profile(VIP)  # the trial succeeds: closed
        assert profile.known
        assert breaker.state == "closed"
        assert (await backend.query(VIP, "points"))["points"] == 12800
        assert len(crm.hits) == 5


async def test_close_is_idempotent_and_the_backend_reconnects(
    backend: HttpBackend, crm: FakeCrm
) -> None:
    await backend.profile(VIP)
    await backend.close()
    await backend.close()
    assert (await backend.profile(VIP)).known
    assert len(crm.hits) == 2
