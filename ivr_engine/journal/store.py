"""Persist and read call records through SQLAlchemy (async), on SQLite or PostgreSQL."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, delete, insert, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from ground.clock import utc_now
from ground.database import ClosesOnExit, make_engine
from ivr_engine.journal.record import CallRecord, Step
from ivr_engine.journal.tables import CallRow, StepRow

_IDS_PER_QUERY = 500


class MissingTables(RuntimeError):
    """The database has not been migrated (``ivr-engine db upgrade``)."""


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL; a caller id must never make a record unwritable.
    return value.replace("\x00", "")


class JournalStore(ClosesOnExit):
    """Call records in a database. ``connect(url)``, then ``save``/``recent``/``get``, ``close``."""

    def __init__(self) -> None:
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None

    @classmethod
    async def connect(cls, url: str) -> JournalStore:
        store = cls()
        await store.open(url)
        return store

    async def open(self, url: str) -> None:
        """Create the engine and check that the journal tables are there.

        The tables come from the migrations (``ivr_engine.db_schema.upgrade``), never from
        the store. Raises if the database cannot be reached or has no journal tables.
        """
        if self._engine is not None:
            raise RuntimeError("journal store is already open")
        engine = make_engine(url, connect_timeout=10, command_timeout=30)
        try:
            async with engine.connect() as conn:
                present = await conn.run_sync(lambda sync: inspect(sync).has_table("calls"))
            if not present:
                raise MissingTables("the journal tables are missing: run 'ivr-engine db upgrade'")
        except BaseException:
            await engine.dispose()
            raise
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @property
    def is_open(self) -> bool:
        return self._engine is not None

    async def close(self) -> None:
        engine, self._engine, self._sessions = self._engine, None, None
        if engine is not None:
            await engine.dispose()

    def _require_engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("journal store is not open")
        return self._engine

    def _require_sessions(self) -> async_sessionmaker[AsyncSession]:
        if self._sessions is None:
            raise RuntimeError("journal store is not open")
        return self._sessions

    async def save(self, record: CallRecord) -> None:
        """Upsert the call row and replace its steps, in one transaction."""
        engine = self._require_engine()
        values = _call_values(record)
        steps = _step_values(record)
        async with engine.begin() as conn:
            await _upsert_call(conn, values)
            await conn.execute(delete(StepRow).where(StepRow.call_id == record.call_id))
            if steps:
                await conn.execute(insert(StepRow), steps)

    async def save_many(self, records: Sequence[CallRecord]) -> None:
        """Save several records in one transaction, as ``save`` would one after the other:
        of several snapshots of one call, the last one is what stays. Far fewer round trips
        than one transaction per record when calls end close together."""
        latest = {record.call_id: record for record in records}
        if not latest:
            return
        engine = self._require_engine()
        calls = [_call_values(record) for record in latest.values()]
        steps = [step for record in latest.values() for step in _step_values(record)]
        ids = list(latest)
        async with engine.begin() as conn:
            await conn.execute(_upsert_many(conn.dialect.name), calls)
            for start in range(0, len(ids), _IDS_PER_QUERY):
                chunk = ids[start : start + _IDS_PER_QUERY]
                await conn.execute(delete(StepRow).where(StepRow.call_id.in_(chunk)))
            if steps:
                await conn.execute(insert(StepRow), steps)

    async def close_unfinished(
        self, instance: str, outcome: str = "engine-crashed", now: datetime | None = None
    ) -> list[str]:
        """Close the records ``instance`` left open: call ids, oldest first.

        For an engine starting up: any record of its own instance still without an end was
        written by an earlier run that died mid-call (killed, crashed, the host lost power),
        since a run that stops finishes every record. Each gets ``outcome``, hangup side
        ``unknown``, and as its end the last moment the journal knew the call was alive (its
        last step written, else its start), with a ``closed`` step saying when and why.
        Never call it while ``instance`` has live calls of its own."""
        closed_at = utc_now() if now is None else now
        query = (
            select(CallRow)
            .where(CallRow.instance == instance, CallRow.ended_at.is_(None))
            .order_by(CallRow.started_at, CallRow.call_id)
        )
        async with self._require_sessions()() as session:
            records = await _records(session, list((await session.scalars(query)).all()))
        for record in records:
            last_seen = max([record.started_at, *(step.at for step in record.steps)])
            record.finish(outcome, "unknown", at=last_seen)
            record.add_step(
                "closed",
                f"{outcome}: the engine stopped during the call; closed when it started again"
                f" at {closed_at.isoformat(timespec='seconds')}",
                at=last_seen,
            )
            await self.save(record)
        return [record.call_id for record in records]

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` most recently started calls, newest first, in ``to_dict()`` form."""
        if limit < 0:
            raise ValueError("limit must not be negative")
        if limit == 0:
            return []
        query = (
            select(CallRow).order_by(CallRow.started_at.desc(), CallRow.call_id.desc()).limit(limit)
        )
        async with self._require_sessions()() as session:
            rows = list((await session.scalars(query)).all())
            return [record.to_dict() for record in await _records(session, rows)]

    async def get(self, call_id: str) -> dict[str, Any] | None:
        async with self._require_sessions()() as session:
            row = await session.get(CallRow, call_id)
            if row is None:
                return None
            (record,) = await _records(session, [row])
            return record.to_dict()


def _call_values(record: CallRecord) -> dict[str, Any]:
    return {
        "call_id": record.call_id,
        "caller": _text(record.caller),
        "dialled": _text(record.dialled),
        "channel": _text(record.channel),
        "unique_id": _text(record.unique_id),
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "outcome": None if record.outcome is None else _text(record.outcome),
        "hangup_side": record.hangup_side,
        "keys": _text(record.keys),
        "instance": _text(record.instance),
    }


def _step_values(record: CallRecord) -> list[dict[str, Any]]:
    return [
        {
            "call_id": record.call_id,
            "seq": seq,
            "at": step.at,
            "kind": _text(step.kind),
            "detail": _text(step.detail),
        }
        for seq, step in enumerate(record.steps)
    ]


# Every column _call_values gives, but the key.
_CALL_CHANGES = (
    "caller",
    "dialled",
    "channel",
    "unique_id",
    "started_at",
    "ended_at",
    "outcome",
    "hangup_side",
    "keys",
    "instance",
)


@functools.cache
def _upsert_many(dialect: str) -> Executable:
    """One upsert statement for many call rows (executemany), built once per dialect so
    that SQLAlchemy compiles it once."""
    if dialect == "postgresql":
        pg_stmt = pg_insert(CallRow)
        return pg_stmt.on_conflict_do_update(
            index_elements=[CallRow.call_id],
            set_={name: pg_stmt.excluded[name] for name in _CALL_CHANGES},
        )
    if dialect == "sqlite":
        lite_stmt = sqlite_insert(CallRow)
        return lite_stmt.on_conflict_do_update(
            index_elements=[CallRow.call_id],
            set_={name: lite_stmt.excluded[name] for name in _CALL_CHANGES},
        )
    raise ValueError(f"no batch upsert for {dialect!r}")


async def _upsert_call(conn: AsyncConnection, values: dict[str, Any]) -> None:
    changes = {name: value for name, value in values.items() if name != "call_id"}
    dialect = conn.dialect.name
    stmt: Executable
    if dialect == "postgresql":
        pg_stmt = pg_insert(CallRow).values(values)
        stmt = pg_stmt.on_conflict_do_update(
            index_elements=[CallRow.call_id],
            set_={name: pg_stmt.excluded[name] for name in changes},
        )
    elif dialect == "sqlite":
        lite_stmt = sqlite_insert(CallRow).values(values)
        stmt = lite_stmt.on_conflict_do_update(
            index_elements=[CallRow.call_id],
            set_={name: lite_stmt.excluded[name] for name in changes},
        )
    else:  # generic: one writer per call id, so update-then-insert does not race
        result = await conn.execute(
            update(CallRow).where(CallRow.call_id == values["call_id"]).values(changes)
        )
        if result.rowcount:
            return
        stmt = insert(CallRow).values(values)
    await conn.execute(stmt)


async def _records(session: AsyncSession, rows: list[CallRow]) -> list[CallRecord]:
    if not rows:
        return []
    steps: defaultdict[str, list[Step]] = defaultdict(list)
    ids = [row.call_id for row in rows]
    for start in range(0, len(ids), _IDS_PER_QUERY):  # stay under bind-parameter limits
        query = (
            select(StepRow)
            .where(StepRow.call_id.in_(ids[start : start + _IDS_PER_QUERY]))
            .order_by(StepRow.call_id, StepRow.seq)
        )
        for step in (await session.scalars(query)).all():
            steps[step.call_id].append(Step(step.at, step.kind, step.detail))
    return [
        CallRecord(
            call_id=row.call_id,
            caller=row.caller,
            dialled=row.dialled,
            channel=row.channel,
            unique_id=row.unique_id,
            started_at=row.started_at,
            ended_at=row.ended_at,
            outcome=row.outcome,
            hangup_side=row.hangup_side,
            keys=row.keys,
            steps=steps[row.call_id],
            instance=row.instance,
        )
        for row in rows
    ]
