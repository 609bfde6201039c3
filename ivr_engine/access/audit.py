"""The audit log: every state-changing API request, allowed or refused.

A row says when, which token (and its name and role), what (method and route), on what
(the path's ids), the HTTP status it ended with, and the request's own fields with any
secret-looking field masked. Reading it back is for admins (``GET /api/v1/audit``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.clock import utc_now
from ivr_engine.access.roles import Principal
from ivr_engine.access.tables import AuditRow

log = logging.getLogger(__name__)

_SECRET_FIELDS = ("password", "secret", "token", "pin")


def masked(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """The request's fields with secret-looking ones replaced by ``***``."""
    if detail is None:
        return None
    return {
        key: "***" if any(word in key.lower() for word in _SECRET_FIELDS) else value
        for key, value in detail.items()
    }


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    token_id: str | None
    actor: str
    role: str | None
    action: str
    target: str
    status: int
    detail: dict[str, Any] | None
    remote: str


class AuditLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(
        self,
        principal: Principal | None,
        action: str,
        target: str,
        status: int,
        detail: dict[str, Any] | None = None,
        remote: str = "",
    ) -> None:
        """Write one entry; a database failure is logged (with the entry), never raised,
        so a refused or done action is never turned into another error."""
        values = {
            "at": utc_now(),
            "token_id": principal.token_id if principal else None,
            "actor": principal.name if principal else "-",
            "role": principal.role.value if principal else None,
            "action": action,
            "target": target,
            "status": status,
            "detail": masked(detail),
            "remote": remote[:64],
        }
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(AuditRow).values(**values))
        except (SQLAlchemyError, OSError) as exc:
            log.error("audit entry not written (%s): %s", type(exc).__name__, values)

    async def entries(
        self, *, since: datetime | None = None, actor: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        table = AuditRow.__table__
        query = select(table).order_by(table.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(table.c.at >= since)
        if actor is not None:
            query = query.where(table.c.actor == actor)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            AuditEntry(
                r.id,
                r.at,
                r.token_id,
                r.actor,
                r.role,
                r.action,
                r.target,
                r.status,
                r.detail,
                r.remote,
            )
            for r in rows
        ]
