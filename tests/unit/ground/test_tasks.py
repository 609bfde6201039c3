"""cancel_and_wait absorbs the task's cancellation but never the caller's own."""

from __future__ import annotations

import asyncio

import pytest

from ground.tasks import cancel_and_wait


async def test_cancels_and_waits_for_the_task() -> None:
    cleaned_up = asyncio.Event()

    async def worker() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned_up.set()

    task = asyncio.create_task(worker())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled() and cleaned_up.is_set()
    await cancel_and_wait(None)


async def test_the_callers_own_cancellation_propagates() -> None:
    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)  # slow clean-up
            raise

    inner = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    outer = asyncio.create_task(cancel_and_wait(inner))
    await asyncio.sleep(0.05)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert outer.cancelled()
    await asyncio.gather(inner, return_exceptions=True)
