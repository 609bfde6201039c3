"""The wallboard hub with fake pages: every page gets the snapshots, a stuck or broken page
is dropped without holding up the others, and the refresh task lives only while someone
watches."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from ivr_engine.wallboard.hub import WallboardHub

WAIT = 5.0  # bound of every wait for something that should happen (it happens at once)


class Page:
    """A page that takes every message at once."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.aborted = False
        self.closed = False
        self._changed = asyncio.Event()

    async def send_str(self, data: str) -> None:
        self.messages.append(json.loads(data))
        self._changed.set()

    async def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    async def wait_for(self, count: int) -> None:
        async def enough() -> None:
            while len(self.messages) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(enough(), WAIT)


class StuckPage(Page):
    """A page whose connection takes nothing: a send never ends."""

    def __init__(self) -> None:
        super().__init__()
        self.sends = 0

    async def send_str(self, data: str) -> None:
        self.sends += 1
        await asyncio.Event().wait()


class BrokenPage(Page):
    async def send_str(self, data: str) -> None:
        raise ConnectionResetError("the page went away")


class Snapshots:
    """A snapshot source that counts: {"n": 1}, {"n": 2}, ..."""

    def __init__(self) -> None:
        self.taken = 0
        self.failing = False

    async def __call__(self) -> dict[str, Any]:
        if self.failing:
            raise OSError("database away")
        self.taken += 1
        return {"n": self.taken}


async def until(what: str, check: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        if check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not within {WAIT} s")
        await asyncio.sleep(0.005)


def numbers(page: Page) -> list[int]:
    return [m["n"] for m in page.messages]


async def test_every_page_gets_each_snapshot_in_order() -> None:
    hub = WallboardHub(Snapshots(), interval=0.01)
    one, two = Page(), Page()
    await hub.join(one)
    await hub.join(two)
    try:
        await one.wait_for(5)
        await two.wait_for(5)
        assert numbers(one)[:5] == [1, 2, 3, 4, 5]
        assert numbers(two)[:5] == [1, 2, 3, 4, 5]
        assert hub.clients == 2

        late = Page()  # joins while the task runs: gets the latest snapshot at once
        latest = numbers(one)[-1]
        await hub.join(late)
        await late.wait_for(1)
        assert numbers(late)[0] >= latest
    finally:
        await hub.close()


async def test_a_stuck_page_never_holds_up_the_others() -> None:
    """The stuck page's send may take up to a minute; the other page gets its snapshots
    meanwhile, one each interval."""
    hub = WallboardHub(Snapshots(), interval=0.01, send_timeout=60)
    stuck, fine = StuckPage(), Page()
    await hub.join(stuck)
    await hub.join(fine)
    try:
        await fine.wait_for(10)
        assert stuck.sends == 1  # busy with the first: the newer ones were skipped
        assert not stuck.aborted and hub.clients == 2
    finally:
        await hub.close()


async def test_a_stuck_page_is_dropped_after_the_send_timeout() -> None:
    hub = WallboardHub(Snapshots(), interval=0.01, send_timeout=0.05)
    stuck, fine = StuckPage(), Page()
    await hub.join(stuck)
    await hub.join(fine)
    try:
        await until("stuck page dropped", lambda: stuck.aborted)
        assert hub.clients == 1 and hub.dropped == 1
        seen = len(fine.messages)
        await fine.wait_for(seen + 3)  # the others go on
        assert stuck.sends == 1 and stuck.messages == []
    finally:
        await hub.close()


async def test_a_page_that_went_away_is_dropped() -> None:
    hub = WallboardHub(Snapshots(), interval=0.01)
    broken, fine = BrokenPage(), Page()
    await hub.join(broken)
    await hub.join(fine)
    try:
        await until("broken page dropped", lambda: broken.aborted)
        await fine.wait_for(3)
        assert hub.clients == 1
    finally:
        await hub.close()


async def test_the_task_runs_only_while_someone_watches() -> None:
    snapshots = Snapshots()
    hub = WallboardHub(snapshots, interval=0.01)
    assert not hub.running and snapshots.taken == 0  # nobody watching: nothing read

    one, two = Page(), Page()
    await hub.join(one)
    assert hub.running
    await hub.join(two)
    await one.wait_for(2)
    await hub.leave(one)
    assert hub.running  # two still watches
    await two.wait_for(len(two.messages) + 2)

    await hub.leave(two)
    assert not hub.running
    taken = snapshots.taken
    await asyncio.sleep(0.05)  # five intervals: a running task would have read again
    assert snapshots.taken == taken

    again = Page()  # a new page starts it again
    await hub.join(again)
    await again.wait_for(2)
    assert hub.running
    await hub.leave(again)
    assert not hub.running


async def test_the_task_ends_when_its_last_page_is_dropped() -> None:
    hub = WallboardHub(Snapshots(), interval=0.01, send_timeout=0.05)
    stuck = StuckPage()
    await hub.join(stuck)
    await until("task ended", lambda: not hub.running)
    assert stuck.aborted and hub.clients == 0
    await hub.leave(stuck)  # the page's handler leaves afterwards: nothing to undo
    assert not hub.running


async def test_a_failed_snapshot_is_sent_as_an_error_and_the_figures_come_back() -> None:
    snapshots = Snapshots()
    snapshots.failing = True
    hub = WallboardHub(snapshots, interval=0.01)
    page = Page()
    await hub.join(page)
    try:
        await page.wait_for(1)
        assert "error" in page.messages[0] and "OSError" in page.messages[0]["error"]
        snapshots.failing = False
        await until("figures again", lambda: any("n" in m for m in page.messages))
    finally:
        await hub.close()


async def test_close_closes_every_page_and_stops() -> None:
    hub = WallboardHub(Snapshots(), interval=0.01, close_timeout=0.05)
    page, stuck = Page(), StuckPage()
    await hub.join(page)
    await hub.join(stuck)
    await page.wait_for(1)
    await hub.close()
    assert page.closed and not hub.running and hub.clients == 0


async def test_the_json_snapshot_is_taken_on_demand() -> None:
    snapshots = Snapshots()
    hub = WallboardHub(snapshots)
    assert await hub.snapshot() == {"n": 1}
    assert not hub.running  # no refresh task for a one-off read
