"""Counting the hotline's live sessions: up while a handler runs, down however it ends."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from ivr_engine.agi.errors import CallerHangup
from ivr_engine.agi.session import AgiSession
from ivr_engine.wallboard.live import LiveSessions

SESSION = cast(AgiSession, object())  # the handlers here never touch it


async def test_a_session_counts_while_its_handler_runs() -> None:
    live = LiveSessions()
    entered, leave = asyncio.Event(), asyncio.Event()

    async def handler(_session: AgiSession) -> None:
        entered.set()
        await leave.wait()

    wrapped = live.counting(handler)
    first = asyncio.create_task(cast(Any, wrapped(SESSION)))
    await asyncio.wait_for(entered.wait(), 5)
    entered.clear()
    second = asyncio.create_task(cast(Any, wrapped(SESSION)))
    await asyncio.wait_for(entered.wait(), 5)
    assert (live.live, live.started) == (2, 2)
    leave.set()
    await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert (live.live, live.started) == (0, 2)


async def test_a_hang_up_a_failure_or_a_cancel_ends_the_count() -> None:
    live = LiveSessions()

    async def hangs_up(_session: AgiSession) -> None:
        raise CallerHangup("gone")

    def fails(_session: AgiSession) -> None:  # a plain function handler, as the server allows
        raise RuntimeError("bug")

    with pytest.raises(CallerHangup):
        await cast(Any, live.counting(hangs_up)(SESSION))
    with pytest.raises(RuntimeError):
        await cast(Any, live.counting(fails)(SESSION))

    async def forever(_session: AgiSession) -> None:
        await asyncio.Event().wait()

    task = asyncio.create_task(cast(Any, live.counting(forever)(SESSION)))
    await asyncio.sleep(0)
    assert live.live == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (live.live, live.started) == (0, 3)
