"""SQLAlchemy models of the call journal (``calls`` and ``call_steps``).

Times are stored as UTC. PostgreSQL keeps them in ``timestamptz``; SQLite has no time zone
type, so ``UTCDateTime`` writes UTC and re-attaches UTC on read, which also keeps SQLite's
text timestamps in a sortable, fixed-width form.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ground.schema import UTCDateTime


class JournalBase(DeclarativeBase):
    """Declarative base owning the journal's MetaData (``JournalBase.metadata``)."""


# Integer on SQLite so the key is the rowid (autoincrement); 64-bit elsewhere.
_StepId = BigInteger().with_variant(Integer(), "sqlite")


class CallRow(JournalBase):
    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    caller: Mapped[str] = mapped_column(String(), default="")
    dialled: Mapped[str] = mapped_column(String(), default="")
    channel: Mapped[str] = mapped_column(String(), default="")
    unique_id: Mapped[str] = mapped_column(String(), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(), nullable=True)
    hangup_side: Mapped[str | None] = mapped_column(String(), nullable=True)
    keys: Mapped[str] = mapped_column(Text(), default="")
    instance: Mapped[str] = mapped_column(String(), default="")

    __table_args__ = (
        Index("ix_calls_started_at", "started_at"),
        Index("ix_calls_caller", "caller"),
    )


class StepRow(JournalBase):
    __tablename__ = "call_steps"

    id: Mapped[int] = mapped_column(_StepId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("calls.call_id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer())
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String())
    detail: Mapped[str] = mapped_column(Text(), default="")

    # Also serves as the index for "steps of this call, in order".
    __table_args__ = (UniqueConstraint("call_id", "seq", name="uq_call_steps_call_seq"),)
