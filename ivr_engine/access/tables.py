"""SQLAlchemy models of API access (own metadata: ``AccessBase.metadata``).

- ``api_tokens``: one row per token. The secret part of a token is never stored, only
  its SHA-256 digest (tokens are 256-bit random strings, so a fast digest is enough; a
  slow password hash would only slow every request down). Revoked tokens stay listed.
- ``audit_log``: every state-changing API request, allowed or refused: who, what, on what,
  with which outcome. Append-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ground.schema import NAMING, UTCDateTime, one_of
from ivr_engine.access.roles import Role

ROLES = tuple(role.value for role in Role)
_AuditId = BigInteger().with_variant(Integer(), "sqlite")


class AccessBase(DeclarativeBase):
    """Declarative base owning the access tables' MetaData."""

    metadata = MetaData(naming_convention=NAMING)


class ApiTokenRow(AccessBase):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        CheckConstraint(one_of("role", ROLES), name="role"),
        CheckConstraint("(role = 'agent') = (agent_id IS NOT NULL)", name="agent"),
    )


class AuditRow(AccessBase):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(_AuditId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    token_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    action: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(String(), default="", server_default="")
    status: Mapped[int] = mapped_column(Integer())
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    remote: Mapped[str] = mapped_column(String(64), default="", server_default="")

    __table_args__ = (Index("ix_audit_log_at", "at"),)
