"""The migrations on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, func, insert, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from ground.database import exclusive_transaction, sqlite_file
from ivr_engine.data.tables import CounterRow, DataBase, SubscriberRow
from ivr_engine.db_schema import (
    VERSION_TABLE,
    alembic_config,
    current,
    differences,
    head,
    upgrade,
)
from ivr_engine.journal.tables import CallRow, JournalBase, StepRow
from ivr_engine.migrations.target import BASELINE, BASELINE_TABLES, TARGET_METADATA
from tests.db.conftest import sqlite_url

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
MODEL_TABLES = {name for metadata in TARGET_METADATA for name in metadata.tables}
ACD_TABLES = MODEL_TABLES - BASELINE_TABLES
CALL = {"call_id": "c1", "caller": "13900139000", "dialled": "10086", "started_at": T0}
SUBSCRIBER = {"number": "13900139000", "brand": "gotone", "home_region": "beijing"}


async def tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def count(url: str, table: type[CallRow | StepRow | SubscriberRow | CounterRow]) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(table)) or 0)
    finally:
        await engine.dispose()


async def create_all_before_migrations(url: str, *metadata: MetaData) -> None:
    """What the stores did before migrations: create_all, then some rows."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for each in metadata:
                await conn.run_sync(each.create_all)
            await conn.execute(insert(CallRow).values(CALL))
            await conn.execute(
                insert(StepRow).values(call_id="c1", seq=0, at=T0, kind="answer", detail="")
            )
            if DataBase.metadata in metadata:
                await conn.execute(insert(SubscriberRow).values(SUBSCRIBER))
    finally:
        await engine.dispose()


async def alembic_to(url: str, revision: str, *, down: bool = False) -> None:
    def run(conn: Connection) -> None:
        cfg = alembic_config(connection=conn)
        (command.downgrade if down else command.upgrade)(cfg, revision)

    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    async with exclusive_transaction(url, timeout=30, foreign_keys=False) as conn:
        await conn.run_sync(run)


async def test_upgrade_from_empty_to_head(empty_db_url: str) -> None:
    assert await current(empty_db_url) is None
    await upgrade(empty_db_url)
    assert await current(empty_db_url) == head() == "0005"
    assert await tables(empty_db_url) == MODEL_TABLES | {VERSION_TABLE}


async def test_upgrade_twice_is_a_no_op(empty_db_url: str) -> None:
    await upgrade(empty_db_url)
    engine = create_async_engine(empty_db_url)
    async with engine.begin() as conn:
        await conn.execute(insert(CallRow).values(CALL))
    await engine.dispose()
    await upgrade(empty_db_url)
    assert await current(empty_db_url) == head()
    assert await count(empty_db_url, CallRow) == 1


async def test_concurrent_upgrades_all_succeed(empty_db_url: str) -> None:
    await asyncio.gather(*(upgrade(empty_db_url) for _ in range(3)))
    assert await current(empty_db_url) == head()
    assert await differences(empty_db_url) == []


async def test_models_and_migrations_agree(empty_db_url: str) -> None:
    """Fails when a model changed without a migration: ``ivr-engine db revision -m ...``."""
    await upgrade(empty_db_url)
    assert await differences(empty_db_url) == []


async def test_the_comparison_sees_a_missing_migration(empty_db_url: str) -> None:
    await alembic_to(empty_db_url, BASELINE)  # as if 0002 had been forgotten
    found = await differences(empty_db_url)
    assert {diff[1].name for diff in found if diff[0] == "add_table"} == ACD_TABLES
    assert {diff[0] for diff in found} == {"add_table", "add_index"}


async def test_a_database_from_before_migrations_is_adopted(
    empty_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await create_all_before_migrations(empty_db_url, JournalBase.metadata, DataBase.metadata)
    assert VERSION_TABLE not in await tables(empty_db_url)
    await upgrade(empty_db_url)
    assert f"recording it as revision {BASELINE}" in caplog.text
    assert await current(empty_db_url) == head()
    assert [await count(empty_db_url, t) for t in (CallRow, StepRow, SubscriberRow)] == [1, 1, 1]
    assert await differences(empty_db_url) == []


async def test_a_partial_database_from_before_migrations_gets_the_missing_tables(
    empty_db_url: str,
) -> None:
    await create_all_before_migrations(empty_db_url, JournalBase.metadata)  # journal only
    await upgrade(empty_db_url)
    assert await current(empty_db_url) == head()
    assert await count(empty_db_url, CallRow) == 1
    assert await count(empty_db_url, CounterRow) == 0  # created empty
    assert await differences(empty_db_url) == []


async def test_a_failed_upgrade_leaves_nothing_half_done(empty_db_url: str) -> None:
    path = sqlite_file(empty_db_url)
    if path is not None:
        path.parent.mkdir(parents=True)
    engine = create_async_engine(empty_db_url)
    async with engine.begin() as conn:  # in the way of 0002, after 0001 has run
        await conn.execute(text("CREATE TABLE agents (x INTEGER)"))
    await engine.dispose()
    with pytest.raises(SQLAlchemyError, match="agents"):
        await upgrade(empty_db_url)
    assert await tables(empty_db_url) == {"agents"}  # 0001's tables were rolled back too
    assert await current(empty_db_url) is None


async def test_downgrade_and_upgrade_again(empty_db_url: str) -> None:
    await upgrade(empty_db_url)
    await alembic_to(empty_db_url, BASELINE, down=True)
    assert await tables(empty_db_url) == BASELINE_TABLES | {VERSION_TABLE}
    await alembic_to(empty_db_url, "base", down=True)
    assert await tables(empty_db_url) == {VERSION_TABLE}
    await upgrade(empty_db_url)
    assert await differences(empty_db_url) == []


async def test_sqlite_table_rebuild_keeps_referencing_rows(tmp_path: Path) -> None:
    """Batch migrations copy a table and drop the old one: with foreign keys enforced, the
    drop would cascade to ``call_steps``. ``upgrade`` runs with them off, then checks them."""
    url = sqlite_url(tmp_path / "engine.db")
    await upgrade(url)
    await create_all_before_migrations(url)  # just the rows: the tables exist

    def rebuild(conn: Connection) -> None:
        operations = Operations(MigrationContext.configure(conn))
        with operations.batch_alter_table("calls", recreate="always"):
            pass

    async with exclusive_transaction(url, timeout=30, foreign_keys=False) as conn:
        await conn.run_sync(rebuild)
    assert await count(url, StepRow) == 1


async def test_current_does_not_create_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "engine.db"
    assert await current(sqlite_url(path)) is None
    assert not path.parent.exists()
