"""``HttpBackend``: the operator's billing/CRM system over HTTP JSON (aiohttp).

REST contract (``{n}`` is the 11-digit national number, country prefix stripped; money is
a decimal string in yuan, e.g. "-23.50"; extra fields are ignored):

    GET  /subscribers/{n}                  200 {"brand", "vip", "vip_level", "arpu",
                                                "home_region", "status", "blacklisted",
                                                "package"}              404: not a subscriber
    GET  /subscribers/{n}/balance          200 {"balance": "45.80"}
    GET  /subscribers/{n}/charges          200 {"charges": "52.30"}    (this month, real time)
    GET  /subscribers/{n}/package          200 {"package": "gotone-88", "minutes_left": 50,
                                                "data_left_mb": 20, "minutes_total": 200,
                                                "data_total_mb": 300}
    GET  /subscribers/{n}/bill             200 {"month": "2026-10", "total": "96.50",
                                                "paid": true}
    GET  /subscribers/{n}/points           200 {"points": 3200}
    POST /subscribers/{n}/verify-password  {"password": "123456"}  -> 200 {"ok": true}
    POST /subscribers/{n}/topup            {"card_pin": "1000..."} -> 200 {"ok": true,
                                                "new_balance": "95.80", "reason": "ok"}
                                           reasons: ok, card-invalid, card-used,
                                           account-suspended (new_balance null unless ok)
    POST /subscribers/{n}/suspend, /resume (no body)       -> 200 {"ok": true}

404 on any subscriber URL means "not a subscriber" (unknown profile, UnknownSubscriber for
queries, False / "unknown-subscriber" for the POSTs). Other 4xx answers raise BackendError
without counting against the circuit breaker; timeouts, connection errors, 5xx and
malformed bodies raise BackendError and count as failures. Each request has its own
timeout. Only GETs are retried (connection errors and 5xx, with a small back-off; not
timeouts, the caller is waiting). POSTs never are: a top-up must not be applied twice, so
a top-up that times out has an unknown outcome and the IVR should hand over to an agent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ground.database import ClosesOnExit
from ivr_engine.data.backend import (
    BackendError,
    Profile,
    TopupResult,
    UnknownSubscriber,
    check_query_kind,
)
from ivr_engine.data.breaker import CircuitBreaker
from ivr_engine.data.numbers import classify_number, normalise_number

T = TypeVar("T")


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _ProfileBody(_Body):
    brand: str
    vip: bool = False
    vip_level: int = Field(0, ge=0, le=5)
    arpu: Decimal = Decimal("0.00")
    home_region: str = ""
    status: str
    blacklisted: bool = False
    package: str = ""


class _Balance(_Body):
    balance: Decimal


class _Charges(_Body):
    charges: Decimal


class _Package(_Body):
    package: str
    minutes_left: int
    data_left_mb: int
    minutes_total: int
    data_total_mb: int


class _Bill(_Body):
    month: str
    total: Decimal
    paid: bool


class _Points(_Body):
    points: int


class _Ok(_Body):
    ok: bool


class _Topup(_Body):
    ok: bool
    new_balance: Decimal | None = None
    reason: str


_QUERIES: dict[str, type[_Body]] = {
    "balance": _Balance,
    "charges": _Charges,
    "package": _Package,
    "bill": _Bill,
    "points": _Points,
}


class _Failure(Exception):
    """The remote system failed (counts against the breaker)."""


class _Retryable(_Failure):
    """A failure worth another try for an idempotent request."""


class HttpBackend(ClosesOnExit):
    """``SubscriberBackend`` over HTTP; one aiohttp session, closed by ``close()``."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 2.0,
        retries: int = 2,
        breaker: CircuitBreaker | None = None,
        backoff: float = 0.1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker if breaker is not None else CircuitBreaker()
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retries = max(0, retries)
        self._backoff = backoff
        self._headers = {"Accept": "application/json", **(headers or {})}
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def profile(self, number: str) -> Profile:
        national = normalise_number(number)
        body = await self._call("GET", _path(national), _ProfileBody.model_validate)
        if body is None:
            return Profile.unknown(national)
        return Profile(
            number=national,
            known=True,
            brand=body.brand,
            vip=body.vip,
            vip_level=body.vip_level,
            arpu=body.arpu,
            home_region=body.home_region,
            status=body.status,
            blacklisted=body.blacklisted,
            network=classify_number(national),
            package=body.package,
        )

    async def query(self, number: str, what: str) -> dict[str, Any]:
        check_query_kind(what)
        path = _path(normalise_number(number), what)
        body = await self._call("GET", path, _QUERIES[what].model_validate)
        if body is None:
            raise UnknownSubscriber("not a subscriber")
        return body.model_dump()

    async def verify_password(self, number: str, password: str) -> bool:
        path = _path(normalise_number(number), "verify-password")
        body = await self._call("POST", path, _Ok.model_validate, {"password": password})
        return body is not None and body.ok

    async def topup(self, number: str, card_pin: str) -> TopupResult:
        path = _path(normalise_number(number), "topup")
        body = await self._call("POST", path, _Topup.model_validate, {"card_pin": card_pin})
        if body is None:
            return TopupResult(False, None, "unknown-subscriber")
        return TopupResult(body.ok, body.new_balance if body.ok else None, body.reason)

    async def set_suspended(self, number: str, suspended: bool) -> bool:
        path = _path(normalise_number(number), "suspend" if suspended else "resume")
        body = await self._call("POST", path, _Ok.model_validate)
        return body is not None and body.ok

    async def _call(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        body: dict[str, str] | None = None,
    ) -> T | None:
        """The parsed 2xx answer, None for 404; BackendError for anything else."""
        self.breaker.before_call()
        attempts = 1 + self._retries if method == "GET" else 1
        try:
            for attempt in range(attempts):
                if attempt:
                    await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
                try:
                    status, payload = await self._once(method, path, body)
                    break
                except _Retryable:
                    if attempt + 1 == attempts:
                        raise
            parsed = parse(payload) if status < 300 else None
        except _Failure as exc:
            self.breaker.record_failure()
            raise BackendError(str(exc)) from exc
        except ValidationError as exc:
            self.breaker.record_failure()
            raise BackendError("malformed response") from exc
        self.breaker.record_success()
        if status < 300 or status == 404:
            return parsed
        raise BackendError(f"HTTP {status} from the subscriber system")

    async def _once(self, method: str, path: str, body: dict[str, str] | None) -> tuple[int, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers)
        try:
            async with self._session.request(
                method, self.base_url + path, json=body, timeout=self._timeout
            ) as response:
                if response.status >= 500:
                    raise _Retryable(f"HTTP {response.status} from the subscriber system")
                if response.status >= 300:
                    return response.status, None
                return response.status, await response.json(content_type=None)
        except TimeoutError as exc:  # before ClientConnectionError: ServerTimeoutError is both
            raise _Failure("subscriber system timeout") from exc
        except aiohttp.ClientConnectionError as exc:
            raise _Retryable("subscriber system unreachable") from exc
        except (aiohttp.ClientError, ValueError) as exc:
            raise _Failure("bad answer from the subscriber system") from exc


def _path(number: str, action: str = "") -> str:
    path = "/subscribers/" + quote(number, safe="")
    return f"{path}/{action}" if action else path
