"""The dispatcher on the collaborators it is given: a pass hands over the offers for this
instance's calls once it has committed them, and the loop stops when told to, whatever
else is happening at that moment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.metrics import NO_METRICS
from acd.service import call_writes
from acd.service.acd import Acd
from acd.service.agent_writes import AgentWrites
from acd.service.database import AcdDatabase
from acd.service.dispatcher import Dispatcher
from acd.service.mirror import Mirror
from acd.service.tickets import Offer, Ticket
from acd.store.call_rows import CallRecord, load_call
from acd.store.sync import sync_config
from ivr_engine.db_schema import upgrade
from tests.unit.acd_asterisk.scripted import FakeClock, make_config, running_acd

CONFIG = make_config()


@pytest.fixture
async def acd(tmp_path: Path) -> AsyncIterator[Acd]:
    async with running_acd(tmp_path, make_config(), FakeClock()) as service:
        yield service


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[AcdDatabase]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    await upgrade(url)
    await sync_config(url, CONFIG)
    db = AcdDatabase(url)
    yield db
    await db.close()


async def _enter(database: AcdDatabase, ticket: Ticket, instance: str) -> None:
    await database.run_transaction(
        lambda conn: call_writes.enter(conn, ticket, instance=instance, channel="", unique_id="")
    )


async def _log_in(database: AcdDatabase, agent_id: str, at: float) -> None:
    agents = AgentWrites(CONFIG, lock_rows=False)
    await database.run_transaction(lambda conn: agents.apply(conn, agent_id, "log_in", at))


async def test_a_pass_hands_over_this_instances_offers_once_committed(
    database: AcdDatabase,
) -> None:
    clock = FakeClock()
    handed: list[tuple[str, Offer, str | None]] = []

    async def deliver(record: CallRecord, offer: Offer) -> None:
        async with database.transaction() as conn:  # another connection: only what committed
            row = await load_call(conn, record.id)
        handed.append((record.id, offer, None if row is None else row.state))

    dispatcher = Dispatcher(
        database,
        Mirror(CONFIG.routing()),
        deliver,
        instance="here",
        policy=CONFIG.policy,
        clock=clock,
        metrics=NO_METRICS,
        poll_interval=0.05,
        unfit_agents=frozenset,
        callback_window_open=lambda: True,
    )
    await _enter(database, Ticket("mine", "sales", 0, clock()), "here")
    clock.advance(1)
    await _enter(database, Ticket("theirs", "sales", 0, clock()), "there")
    for agent_id in ("8001", "8002"):  # 8001 has been idle longest
        await _log_in(database, agent_id, clock())
        clock.advance(1)

    assert (await dispatcher.run_pass()).reserved == [("mine", "8001"), ("theirs", "8002")]
    assert handed == [("mine", Offer("8001", "PJSIP/8001"), "offered")]
    assert dispatcher.last_assigned == {"sales": "8002"}
    assert (await dispatcher.run_pass()).reserved == []
    assert len(handed) == 2  # an offer still standing is handed over again, every pass


async def test_a_poke_at_the_moment_of_stopping_does_not_keep_the_loop_running(
    acd: Acd,
) -> None:
    for _ in range(30):
        acd.start()
        task = acd._task
        assert task is not None
        for _ in range(5):  # let it run a pass and wait for the next poke
            await asyncio.sleep(0)
        await asyncio.sleep(0.002)
        acd.dispatcher.poke()  # a caller enters just as the engine stops
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2.0)
        assert done == {task}, "the dispatcher kept running after it was cancelled"
        assert task.cancelled()
        acd._task = None
