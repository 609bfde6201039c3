"""The dispatcher's loop stops when told to, whatever else is happening at that moment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.service.acd import Acd
from tests.unit.acd_asterisk.scripted import FakeClock, make_config, running_acd


@pytest.fixture
async def acd(tmp_path: Path) -> AsyncIterator[Acd]:
    async with running_acd(tmp_path, make_config(), FakeClock()) as service:
        yield service


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
