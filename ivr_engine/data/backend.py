"""What the IVR asks of the operator's subscriber systems, and the answers' shapes.

Two implementations: ``SqlBackend`` (data in the engine's database; also the shared
``Counters``) and ``HttpBackend`` (the operator's billing/CRM system over HTTP JSON).
Any failure of the system itself (timeout, open circuit, HTTP 5xx, database down) is a
``BackendError``: the IVR apologises and offers an agent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Protocol

from ivr_engine.data.numbers import classify_number, normalise_number

BRANDS = ("gotone", "mzone", "easyown", "other")
STATUSES = ("active", "half-suspended", "suspended")
QUERY_KINDS = ("balance", "charges", "package", "bill", "points")


class BackendError(Exception):
    """The subscriber system failed; the message is short and holds no card numbers or PINs."""


class UnknownSubscriber(BackendError):
    """``query`` for a number that is not a subscriber (check ``Profile.known`` first)."""


@dataclass(frozen=True)
class Profile:
    """Who is calling. ``vip`` is the stored flag; an ARPU rule is a branch condition on
    ``arpu``. For unknown numbers brand is "other" and status, home_region, package are ""."""

    number: str
    known: bool
    brand: str
    vip: bool
    vip_level: int
    arpu: Decimal
    home_region: str
    status: str
    blacklisted: bool
    network: str
    package: str

    @classmethod
    def unknown(cls, number: str, *, blacklisted: bool = False) -> Profile:
        """The profile of a number that is not a subscriber of this operator."""
        national = normalise_number(number)
        return cls(
            number=national,
            known=False,
            brand="other",
            vip=False,
            vip_level=0,
            arpu=Decimal("0.00"),
            home_region="",
            status="",
            blacklisted=blacklisted,
            network=classify_number(national),
            package="",
        )

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, for branch conditions (``profile.<field>``)."""
        return asdict(self)


@dataclass(frozen=True)
class TopupResult:
    """``reason``: ok, card-invalid, card-used, account-suspended or unknown-subscriber."""

    ok: bool
    new_balance: Decimal | None
    reason: str


class SubscriberBackend(Protocol):
    async def profile(self, number: str) -> Profile: ...

    async def query(self, number: str, what: str) -> dict[str, Any]:
        """``what`` is one of QUERY_KINDS:

        balance -> {"balance": Decimal}; charges -> {"charges": Decimal} (this month, real
        time); package -> {"package", "minutes_left", "data_left_mb", "minutes_total",
        "data_total_mb"}; bill -> {"month": "2026-10", "total": Decimal, "paid": bool};
        points -> {"points": int}. Raises UnknownSubscriber, ValueError for another ``what``.
        """
        ...

    async def verify_password(self, number: str, password: str) -> bool: ...

    async def topup(self, number: str, card_pin: str) -> TopupResult: ...

    async def set_suspended(self, number: str, suspended: bool) -> bool:
        """Suspend or resume (停复机) at the subscriber's request; True if the line is now so."""
        ...

    async def close(self) -> None: ...


class Counters(Protocol):
    """Counters shared across calls and engine instances (password failures, call caps)."""

    async def get(self, name: str, key: str, period: str = "") -> int: ...

    async def increment(self, name: str, key: str, period: str = "") -> int:
        """Add one and return the new value, atomically across instances."""
        ...

    async def reset(self, name: str, key: str, period: str = "") -> None: ...


def check_query_kind(what: str) -> None:
    if what not in QUERY_KINDS:
        raise ValueError(f"unknown query {what!r}; expected one of {', '.join(QUERY_KINDS)}")
