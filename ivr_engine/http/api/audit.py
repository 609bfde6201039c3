"""Admins read the audit log: who did what, when, and how it ended. The handler's tools is
the audit log itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ivr_engine.access.audit import AuditLog
from ivr_engine.http.api.endpoint import ADMIN, ApiRequest, Endpoint


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: datetime | None = Field(None, description="entries at or after this time (ISO 8601)")
    actor: str | None = Field(None, max_length=64, description="the token's name")
    limit: int = Field(100, ge=1, le=1000)


class AuditEntryView(BaseModel):
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


class AuditList(BaseModel):
    entries: list[AuditEntryView]


async def read_audit_log(audit: AuditLog, call: ApiRequest) -> AuditList:
    query = call.query_as(AuditQuery)
    entries = await audit.entries(since=query.since, actor=query.actor, limit=query.limit)
    return AuditList(entries=[AuditEntryView(**vars(entry)) for entry in entries])


AUDIT_ENDPOINTS: tuple[Endpoint[AuditLog], ...] = (
    Endpoint(
        "GET",
        "/audit",
        read_audit_log,
        "The audit log, newest first",
        "operations",
        ADMIN,
        query=AuditQuery,
        response=AuditList,
    ),
)
