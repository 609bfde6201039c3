"""The reports read what the running ACD really writes: calls put through the ``Acd``
service with a test clock, then the queues and agents reports over them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.agents import utc_datetime
from acd.service.acd import Acd
from acd.store.sync import sync_config
from ground.database import make_engine
from ivr_engine.reports.registry import REPORTS
from ivr_engine.settings import Settings
from tests.db.acd_support import CONFIG, T0, Clock, queue_log

# T0 is 2025-06-15 23:06:40 in Shanghai
DAY = {"start": "2025-06-15", "end": "2025-06-15"}


@pytest.fixture
async def acd(db_url: str) -> AsyncIterator[tuple[Acd, Clock, AsyncEngine]]:
    await sync_config(db_url, CONFIG)
    clock = Clock()
    service = Acd(db_url, CONFIG, "east", clock=clock)
    engine = make_engine(db_url, connect_timeout=5, command_timeout=10)
    yield service, clock, engine
    await service.stop()
    await engine.dispose()


async def test_an_answered_and_an_abandoned_call(acd: tuple[Acd, Clock, AsyncEngine]) -> None:
    service, clock, engine = acd
    await service.agent_event("8001", "log_in")
    first = await service.enqueue("c1", "general")
    clock.advance(2)
    assert (await service.dispatcher.run_pass()).reserved == [("c1", "8001")]
    clock.advance(3)
    assert await service.answered("c1", "8001") is not None  # waited 5 s
    clock.advance(60)
    await service.finished(first, "8001")  # talked 60 s, then 5 s wrap-up
    clock.advance(5)
    await service.dispatcher.run_pass()  # ends the wrap-up
    second = await service.enqueue("c2", "general")
    clock.advance(30)
    await service.abandon(second)  # waited 30 s
    assert [r.event for r in await queue_log(service)] == [
        "enter",
        "offer",
        "answer",
        "complete",
        "enter",
        "abandon",
    ]

    now = utc_datetime(clock.now + 60).isoformat()
    settings = Settings.model_validate({"calendar": {"fixed_time": now}})
    spec = REPORTS["queues"]
    queues = await spec.build(
        engine, spec.params.model_validate(DAY | {"interval": "day"}), settings
    )
    [general] = [r for r in queues.rows if r["queue"] == "general"]
    # offered 2, answered 1 (5 s), abandoned 1 (30 s, after 20 s): SL 1 / 2 = 50 %
    # ASA 5, AHT 60 talk + 5 wrap-up = 65, longest wait 30
    assert (general["offered"], general["answered"], general["abandoned"]) == (2, 1, 1)
    assert (general["service_level_pct"], general["asa_s"], general["aht_s"]) == (50.0, 5.0, 65.0)
    assert general["longest_wait_s"] == 30.0

    spec = REPORTS["agents"]
    agents = await spec.build(engine, spec.params.model_validate(DAY), settings)
    [agent] = [r for r in agents.rows if r["agent"] == "8001"]
    # logged in at T0, rang 2..5, talked 5..65, wrap-up 65..70, then available until now
    # (T0 + 100 + 60 = 160 s after the log-in)
    assert (agent["calls"], agent["talk_s"], agent["wrap_up_s"], agent["aht_s"]) == (
        1,
        60.0,
        5.0,
        65.0,
    )
    assert (agent["ringing_s"], agent["logged_in_s"]) == (3.0, 160.0)
    assert agent["available_s"] == 2.0 + 90.0  # before the ring, after the wrap-up
    assert clock.now - T0 == 100.0
