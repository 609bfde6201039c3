"""SQLAlchemy models of the subscriber data (own metadata: ``DataBase.metadata``).

Money is kept in fen (1/100 yuan) as integers, exact on SQLite and PostgreSQL alike;
times are UTC (``UTCDateTime``, as in the journal). Secrets are hashed (``hashing``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ground.schema import UTCDateTime

_FEN = Decimal("0.01")


def to_fen(yuan: Decimal) -> int:
    return int(yuan.quantize(_FEN) * 100)


def to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(_FEN)


class DataBase(DeclarativeBase):
    """Declarative base owning the subscriber data's MetaData."""


class SubscriberRow(DataBase):
    __tablename__ = "subscribers"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    brand: Mapped[str] = mapped_column(String(16))
    vip: Mapped[bool] = mapped_column(Boolean(), default=False)
    vip_level: Mapped[int] = mapped_column(Integer(), default=0)
    arpu_fen: Mapped[int] = mapped_column(BigInteger(), default=0)
    home_region: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    package: Mapped[str] = mapped_column(String(32), default="")
    password_hash: Mapped[str | None] = mapped_column(String(), nullable=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger(), default=0)
    charges_fen: Mapped[int] = mapped_column(BigInteger(), default=0)
    minutes_used: Mapped[int] = mapped_column(Integer(), default=0)
    minutes_total: Mapped[int] = mapped_column(Integer(), default=0)
    data_used_mb: Mapped[int] = mapped_column(Integer(), default=0)
    data_total_mb: Mapped[int] = mapped_column(Integer(), default=0)
    bill_month: Mapped[str] = mapped_column(String(7), default="")
    bill_total_fen: Mapped[int] = mapped_column(BigInteger(), default=0)
    bill_paid: Mapped[bool] = mapped_column(Boolean(), default=True)
    points: Mapped[int] = mapped_column(Integer(), default=0)


class BlacklistRow(DataBase):
    __tablename__ = "blacklist"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(String(), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TopupCardRow(DataBase):
    __tablename__ = "topup_cards"

    pin_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger())
    used_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CounterRow(DataBase):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(), primary_key=True)
    key: Mapped[str] = mapped_column(String(), primary_key=True)
    period: Mapped[str] = mapped_column(String(), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger(), default=0)
