"""API tokens: made once, shown once, stored as a digest, checked in constant time.

A token reads ``ivr_<id>.<secret>``: the id finds the row, the secret (32 random bytes,
URL-safe base64) is compared by its SHA-256 digest. Only ``ivr-engine token create``
ever sees the secret; listing shows ids, names and roles.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.clock import utc_now
from ivr_engine.access.roles import Principal, Role
from ivr_engine.access.tables import ApiTokenRow

_TOKEN = re.compile(r"^ivr_([a-z0-9]{12})\.([A-Za-z0-9_-]{43})$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")


class TokenError(ValueError):
    """A token cannot be made as asked (bad name, agent missing, ...)."""


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    role: Role
    agent_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.name,
        Role(row.role),
        row.agent_id,
        row.created_at,
        row.expires_at,
        row.revoked_at,
    )


class TokenStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(
        self,
        name: str,
        role: Role,
        *,
        agent_id: str | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[TokenInfo, str]:
        """A new token: its description and the token itself (shown this once only)."""
        if not NAME.match(name):
            raise TokenError(f"token name {name!r}: 1-64 letters, digits, space, . _ @ -")
        if (role is Role.AGENT) != (agent_id is not None):
            raise TokenError("an agent token needs --agent; other roles take none")
        token_id = secrets.choice("abcdefghijkmnpqrstuvwxyz") + "".join(
            secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(11)
        )
        secret = secrets.token_urlsafe(32)
        row = ApiTokenRow(
            id=token_id,
            name=name,
            role=role.value,
            agent_id=agent_id,
            secret_sha256=_digest(secret),
            created_at=utc_now(),
            expires_at=expires_at,
        )
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(ApiTokenRow).values(
                    id=row.id,
                    name=row.name,
                    role=row.role,
                    agent_id=row.agent_id,
                    secret_sha256=row.secret_sha256,
                    created_at=row.created_at,
                    expires_at=row.expires_at,
                )
            )
        return _info(row), f"ivr_{token_id}.{secret}"

    async def verify(self, token: str) -> Principal | None:
        """The principal of a valid token; None for a malformed, unknown, revoked or
        expired one (the caller must not learn which)."""
        match = _TOKEN.match(token)
        if match is None:
            return None
        token_id, secret = match.groups()
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(ApiTokenRow.__table__).where(ApiTokenRow.id == token_id))
            ).first()
        expected = row.secret_sha256 if row is not None else "0" * 64
        if not hmac.compare_digest(_digest(secret), expected) or row is None:
            return None
        now = utc_now()
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        return Principal(row.id, row.name, Role(row.role), row.agent_id)

    async def revoke(self, token_id: str) -> bool:
        """Revoke a token; False when no live token has that id."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=utc_now())
            )
        return bool(result.rowcount)

    async def list(self) -> list[TokenInfo]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(select(ApiTokenRow.__table__).order_by(ApiTokenRow.created_at))
            ).all()
        return [
            TokenInfo(
                r.id, r.name, Role(r.role), r.agent_id, r.created_at, r.expires_at, r.revoked_at
            )
            for r in rows
        ]
