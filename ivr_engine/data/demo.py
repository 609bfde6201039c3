"""Demo subscribers (``config/demo/subscribers.yaml``) loaded into the engine's database.

``load_demo(url, path)`` is idempotent: the file's subscribers, blacklist entries and cards
replace any rows with the same keys; other rows are left alone. Passwords and card PINs are
hashed on the way in (the hashes of an unchanged file are reused within one process).
"""

from __future__ import annotations

import asyncio
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from sqlalchemy import delete, insert
from sqlalchemy.exc import SQLAlchemyError

from ground.paths import PROJECT_ROOT
from ivr_engine.data.backend import BackendError
from ivr_engine.data.hashing import card_key, hash_password
from ivr_engine.data.sql import SqlBackend
from ivr_engine.data.tables import BlacklistRow, SubscriberRow, TopupCardRow, to_fen

DEFAULT_DEMO_FILE = PROJECT_ROOT / "config" / "demo" / "subscribers.yaml"

Mobile = Annotated[str, StringConstraints(pattern=r"^1\d{10}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DemoPackage(_Strict):
    minutes: int = Field(ge=0)
    data_mb: int = Field(ge=0)


class DemoBill(_Strict):
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    total: Decimal
    paid: bool


class DemoSubscriber(_Strict):
    number: Mobile
    note: str = ""
    brand: Literal["gotone", "mzone", "easyown"]
    vip: bool = False
    vip_level: int = Field(0, ge=0, le=5)
    arpu: Decimal = Field(ge=0)
    home_region: str
    status: Literal["active", "half-suspended", "suspended"] = "active"
    package: str = ""
    password: str | None = Field(None, pattern=r"^\d{6}$")
    balance: Decimal
    charges: Decimal = Decimal(0)
    minutes_used: int = Field(0, ge=0)
    data_used_mb: int = Field(0, ge=0)
    bill: DemoBill
    points: int = Field(0, ge=0)


class DemoBlacklistEntry(_Strict):
    number: str = Field(pattern=r"^\d{3,20}$")  # as the backend looks it up: no +86
    reason: str = ""
    expires_at: AwareDatetime | None = None


class DemoCard(_Strict):
    pin: str = Field(pattern=r"^\d{16,19}$")
    amount: Decimal = Field(gt=0)
    used_by: Mobile | None = None
    used_at: AwareDatetime | None = None


class DemoData(_Strict):
    region: str
    packages: dict[str, DemoPackage] = {}
    subscribers: list[DemoSubscriber]
    blacklist: list[DemoBlacklistEntry] = []
    topup_cards: list[DemoCard] = []

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        numbers = [s.number for s in self.subscribers]
        pins = [c.pin for c in self.topup_cards]
        listed = [b.number for b in self.blacklist]
        for what, keys in (("subscriber", numbers), ("card", pins), ("blacklist", listed)):
            if len(set(keys)) != len(keys):
                raise ValueError(f"duplicate {what} entries")
        unknown = {s.package for s in self.subscribers if s.package} - set(self.packages)
        if unknown:
            raise ValueError(f"undefined packages: {', '.join(sorted(unknown))}")
        return self


def read_demo(path: str | Path = DEFAULT_DEMO_FILE) -> DemoData:
    """Parse and validate a demo file; ValueError with the file name and the reason."""
    try:
        raw: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return DemoData.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


_Rows = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]
_prepared: dict[str, _Rows] = {}


async def _rows(demo: DemoData) -> _Rows:
    """Table rows for the demo data; scrypt runs in worker threads, all at once."""
    fingerprint = hashlib.sha256(demo.model_dump_json().encode()).hexdigest()
    if fingerprint in _prepared:
        return _prepared[fingerprint]
    password_hashes = await asyncio.gather(
        *(asyncio.to_thread(hash_password, s.password) for s in demo.subscribers if s.password)
    )
    hashes = iter(password_hashes)
    keys = await asyncio.gather(*(asyncio.to_thread(card_key, c.pin) for c in demo.topup_cards))
    subscribers = []
    for sub in demo.subscribers:
        package = demo.packages.get(sub.package, DemoPackage(minutes=0, data_mb=0))
        subscribers.append(
            {
                "number": sub.number,
                "brand": sub.brand,
                "vip": sub.vip,
                "vip_level": sub.vip_level,
                "arpu_fen": to_fen(sub.arpu),
                "home_region": sub.home_region,
                "status": sub.status,
                "package": sub.package,
                "password_hash": next(hashes) if sub.password else None,
                "balance_fen": to_fen(sub.balance),
                "charges_fen": to_fen(sub.charges),
                "minutes_used": sub.minutes_used,
                "minutes_total": package.minutes,
                "data_used_mb": sub.data_used_mb,
                "data_total_mb": package.data_mb,
                "bill_month": sub.bill.month,
                "bill_total_fen": to_fen(sub.bill.total),
                "bill_paid": sub.bill.paid,
                "points": sub.points,
            }
        )
    blacklist = [b.model_dump() for b in demo.blacklist]
    cards = [
        {
            "pin_hash": key,
            "amount_fen": to_fen(c.amount),
            "used_by": c.used_by,
            "used_at": c.used_at,
        }
        for key, c in zip(keys, demo.topup_cards, strict=True)
    ]
    _prepared[fingerprint] = rows = (subscribers, blacklist, cards)
    return rows


async def load_demo(url: str, path: str | Path = DEFAULT_DEMO_FILE) -> int:
    """Load (or reset to) the demo file's rows; returns the number of subscribers loaded.

    Raises ValueError for a bad file and BackendError when the database fails.
    """
    demo = await asyncio.to_thread(read_demo, path)
    subscribers, blacklist, cards = await _rows(demo)
    backend = await SqlBackend.connect(url)
    try:
        async with backend.engine.begin() as conn:
            numbers = [row["number"] for row in subscribers]
            await conn.execute(delete(SubscriberRow).where(SubscriberRow.number.in_(numbers)))
            if subscribers:
                await conn.execute(insert(SubscriberRow), subscribers)
            listed = [row["number"] for row in blacklist]
            await conn.execute(delete(BlacklistRow).where(BlacklistRow.number.in_(listed)))
            if blacklist:
                await conn.execute(insert(BlacklistRow), blacklist)
            keys = [row["pin_hash"] for row in cards]
            await conn.execute(delete(TopupCardRow).where(TopupCardRow.pin_hash.in_(keys)))
            if cards:
                await conn.execute(insert(TopupCardRow), cards)
    except (SQLAlchemyError, OSError) as exc:
        raise BackendError(f"database error (load-demo): {type(exc).__name__}") from exc
    finally:
        await backend.close()
    return len(subscribers)
