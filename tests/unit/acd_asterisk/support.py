"""Waiting, in tests, for something the event loop delivers a moment later."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def eventually(condition: Callable[[], bool], timeout: float = 1.0) -> None:
    """Return once ``condition()`` holds; fail the test if it still does not after ``timeout``."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    assert condition(), "condition not met in time"
