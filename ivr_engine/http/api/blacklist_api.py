"""Operations staff and the blacklist: the numbers the IVR refuses, in the table the
screening reads (``ivr_engine.data.sql.SqlBackend.profile``), in the database the
subscriber data lives in (``ivr_engine.services.subscriber_data_url``). Numbers are
stored as the screening looks them up (``normalise_number``: no +86 prefix), and an entry
counts while it has no expiry or its expiry is still to come."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ground.clock import utc_now
from ground.database import make_engine
from ivr_engine.data.numbers import normalise_number
from ivr_engine.data.tables import BlacklistRow
from ivr_engine.http.api.endpoint import ADMIN, ApiRequest, Endpoint
from ivr_engine.http.api.errors import ApiError
from ivr_engine.services import subscriber_data_url
from ivr_engine.settings import Settings

NUMBER = r"^[0-9]{3,20}$"
REASON = r"\S"  # not blank
TAG = "operations"
IN_CRM = "the blacklist is kept in the CRM"
_TABLE = BlacklistRow.__table__


class BlacklistQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    all: bool = Field(False, description="true: expired entries too")


class BlacklistBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(pattern=NUMBER, description="the calling number, 3-20 digits")
    reason: str = Field(min_length=1, max_length=200, pattern=REASON)
    expires_at: AwareDatetime | None = Field(None, description="blocked until (ISO 8601)")
    days: int | None = Field(None, ge=1, le=3650, description="blocked for this many days")

    @model_validator(mode="after")
    def _one_expiry(self) -> Self:
        if self.expires_at is not None and self.days is not None:
            raise ValueError("give expires_at or days, not both (neither: no expiry)")
        return self


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, min_length=1, max_length=200, pattern=REASON)


class ReasonQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, min_length=1, max_length=200, pattern=REASON)


class BlacklistEntryView(BaseModel):
    number: str
    reason: str
    expires_at: datetime | None
    live: bool = Field(description="calls from this number are refused now")


class BlacklistList(BaseModel):
    entries: list[BlacklistEntryView]


def _view(row: Any, now: datetime) -> BlacklistEntryView:
    """A row of the table (as selected) as the API shows it."""
    expires_at: datetime | None = row.expires_at
    return BlacklistEntryView(
        number=row.number,
        reason=row.reason or "",
        expires_at=expires_at,
        live=expires_at is None or expires_at > now,
    )


def _live(now: datetime) -> ColumnElement[bool]:
    """As the screening counts an entry: no expiry, or one still to come."""
    return or_(BlacklistRow.expires_at.is_(None), BlacklistRow.expires_at > now)


def _number(text: str) -> str:
    if not text.isascii() or not text.isdigit() or not 3 <= len(text) <= 20:
        problem = {"field": "number", "reason": "a phone number: 3 to 20 digits"}
        raise ApiError(422, "the number is not valid", [problem])
    return normalise_number(text)


class BlacklistStore:
    """The blacklist endpoints' tools: the blacklist table of the subscriber database (the
    API's own engine when the data lives in the engine's database, else one opened per
    request)."""

    def __init__(self, settings: Settings, api_engine: AsyncEngine) -> None:
        self.url = subscriber_data_url(settings)
        self._shared = api_engine if self.url == settings.database_url() else None

    @asynccontextmanager
    async def engine(self) -> AsyncIterator[AsyncEngine]:
        if self.url is None:
            raise ApiError(409, IN_CRM)
        if self._shared is not None:
            yield self._shared
            return
        engine = make_engine(self.url, connect_timeout=5, command_timeout=10)
        try:
            yield engine
        finally:
            await engine.dispose()


async def list_blacklist(store: BlacklistStore, call: ApiRequest) -> BlacklistList:
    now = utc_now()
    query = select(_TABLE).order_by(_TABLE.c.number)
    if not call.query_as(BlacklistQuery).all:
        query = query.where(_live(now))
    async with store.engine() as engine, engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return BlacklistList(entries=[_view(row, now) for row in rows])


async def add_to_blacklist(store: BlacklistStore, call: ApiRequest) -> BlacklistEntryView:
    body = call.body_as(BlacklistBody)
    number = _number(body.number)
    now = utc_now()
    expires_at = body.expires_at
    if body.days is not None:
        expires_at = now + timedelta(days=body.days)
    if expires_at is not None and expires_at <= now:
        problem = {"field": "expires_at", "reason": "the expiry is already past"}
        raise ApiError(422, "the body is not valid", [problem])
    row = {"number": number, "reason": body.reason.strip(), "expires_at": expires_at}
    same = BlacklistRow.number == number
    async with store.engine() as engine:
        try:
            async with engine.begin() as conn:
                found = (
                    await conn.execute(select(_TABLE).where(_TABLE.c.number == number))
                ).first()
                if found is not None and _view(found, now).live:
                    raise ApiError(
                        409,
                        f"{number} is already blacklisted ({found.reason});"
                        " remove it first to change the entry",
                    )
                if found is not None:  # an expired entry gives way to the new one
                    await conn.execute(delete(BlacklistRow).where(same))
                await conn.execute(insert(BlacklistRow).values(**row))
        except IntegrityError as exc:  # another request listed it meanwhile
            raise ApiError(409, f"{number} is already blacklisted") from exc
    return BlacklistEntryView(**row, live=True)


async def remove_from_blacklist(store: BlacklistStore, call: ApiRequest) -> BlacklistEntryView:
    number = _number(call.path("number"))
    reason = call.body_as(ReasonBody).reason or call.query_as(ReasonQuery).reason
    if reason is None:
        problem = {"field": "reason", "reason": "say why (in the body, or ?reason=)"}
        raise ApiError(422, "the reason is missing", [problem])
    now = utc_now()
    async with store.engine() as engine, engine.begin() as conn:
        found = (await conn.execute(select(_TABLE).where(_TABLE.c.number == number))).first()
        if found is None:
            raise ApiError(404, f"{number} is not on the blacklist")
        await conn.execute(delete(BlacklistRow).where(BlacklistRow.number == number))
    return _view(found, now)


BLACKLIST_ENDPOINTS: tuple[Endpoint[BlacklistStore], ...] = (
    Endpoint(
        "GET",
        "/blacklist",
        list_blacklist,
        "Blacklisted numbers",
        TAG,
        ADMIN,
        query=BlacklistQuery,
        response=BlacklistList,
        errors=(409,),
        description="The numbers whose calls are refused now; ?all=true adds the expired"
        f" entries. 409 when {IN_CRM}.",
    ),
    Endpoint(
        "POST",
        "/blacklist",
        add_to_blacklist,
        "Blacklist a number",
        TAG,
        ADMIN,
        body=BlacklistBody,
        response=BlacklistEntryView,
        status=201,
        errors=(409,),
        description="The next call from the number is refused. Without expires_at or"
        " days the entry never expires. 409 when the number is listed already, or when"
        f" {IN_CRM}.",
    ),
    Endpoint(
        "DELETE",
        "/blacklist/{number}",
        remove_from_blacklist,
        "Take a number off the blacklist",
        TAG,
        ADMIN,
        body=ReasonBody,
        optional_body=True,
        query=ReasonQuery,
        response=BlacklistEntryView,
        errors=(404, 409),
        description="The reason is required, in the JSON body or as ?reason=; it is kept"
        " in the audit log.",
    ),
)
