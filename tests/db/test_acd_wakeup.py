"""PostgreSQL: an ACD change in one instance wakes the others at commit (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio

import pytest

from acd.config import parse_config
from acd.service.acd import Acd
from acd.service.wakeup import PgWakeup, asyncpg_dsn
from acd.store.sync import sync_config
from tests.db.conftest import PgDatabase

pytestmark = pytest.mark.postgres

CONFIG = {
    "version": 1,
    "skills": {"general": "the pool"},
    "queues": {"general": {"requirements": {"general": 1}}},
    "agents": [{"ids": "8021", "skills": {"general": 2}}],
}


def test_the_dsn_loses_the_driver_but_keeps_the_password() -> None:
    dsn = asyncpg_dsn("postgresql+asyncpg://ivr:secret@127.0.0.1:5432/acd")
    assert dsn == "postgresql://ivr:secret@127.0.0.1:5432/acd"


async def test_a_write_in_one_instance_wakes_the_other(fresh_postgres: PgDatabase) -> None:
    url = fresh_postgres.url()
    config = parse_config(CONFIG)
    await sync_config(url, config)
    woken = asyncio.Event()
    listener = PgWakeup(url, woken.set)
    task = asyncio.create_task(listener.run())
    writer = Acd(url, config, "instance-a")
    try:
        async with asyncio.timeout(10):
            await woken.wait()  # it wakes once on listening, for changes made before
        assert listener.listening
        woken.clear()
        async with writer.transaction() as conn:  # a read: nobody is woken
            await conn.exec_driver_sql("SELECT 1")
        await asyncio.sleep(0.3)
        assert not woken.is_set()
        await writer.agent_event("8021", "log_in")
        async with asyncio.timeout(5):
            await woken.wait()
        assert listener.notifications == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await writer.stop()
