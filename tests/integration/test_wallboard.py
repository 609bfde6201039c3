"""The wallboard in a real browser (Debian's chromium, headless, through its own
chromedriver) on the real engine, while SIPp agents and callers go through Asterisk.

The page is read as a supervisor would read it: the text of its figures (each element
has a ``data-testid``), polled until it shows what the engine's state says, within a few
seconds (the page gets a snapshot every second; today's IVR figures are read every five).
A screenshot is saved to ``var/test-artifacts/wallboard.png`` on every run: the busiest
moment when the run goes well, the page as it was when it did not.

Agents of config/acd.yaml used here: 8021 (general:2) logs in with ``*11`` from its SIPp
phone and answers; 8001 (vip, gotone, general) is logged in and paused, so that a GoTone
caller has nobody free and waits.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from ground.paths import PROJECT_ROOT
from ivr_engine.settings import load_settings
from testbed.acd import AcdProbe
from testbed.engine import EngineProcess
from testbed.sipp import answer_as_agent, place_call
from testbed.sipp_result import SippResult
from tests.integration.acd_calls import talk_for

pytestmark = pytest.mark.asterisk

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = PROJECT_ROOT / "var" / "test-artifacts" / "wallboard.png"
SHOWN_WITHIN = 15.0  # seconds for a change to reach the page (a snapshot a second; 5 s journal)
ZERO = (1.0, "0")  # 0 during the 10086 welcome: to the caller's queue
GOTONE = "13900139000"  # GoTone subscriber: the gotone queue (needs gotone 1)
EASY_OWN = "15800158000"  # Easy Own subscriber: the general queue (general 1)
M_ZONE = "15000150000"  # walks the menus

Figures = dict[str, str]
_READ_ALL = """
return Object.fromEntries(
  Array.from(document.querySelectorAll('[data-testid]'))
       .map(function (e) { return [e.dataset.testid, e.textContent.trim()]; }));
"""


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        reason = "chromium and chromium-driver are not installed: scripts/setup-host.sh --test"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: the page test must run, not skip)")
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the suite runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1920,1080",  # a big screen
        "--hide-scrollbars",
    ):
        options.add_argument(argument)
    # The driver is given: nothing is looked up or downloaded.
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The open wallboard: every figure at once, and bounded waits for what it shows."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver

    def figures(self) -> Figures:
        found: Figures = self.driver.execute_script(_READ_ALL)
        return found

    async def until(
        self, what: str, check: Callable[[Figures], bool], timeout: float = SHOWN_WITHIN
    ) -> Figures:
        deadline = time.monotonic() + timeout
        while True:
            figures = await asyncio.to_thread(self.figures)
            if check(figures):
                return figures
            if time.monotonic() > deadline:
                shown = {k: v for k, v in sorted(figures.items()) if not k.startswith("exit-")}
                raise AssertionError(f"the wallboard never showed {what} in {timeout} s: {shown}")
            await asyncio.sleep(0.2)

    async def shows(self, **expected: str) -> Figures:
        """Wait until every figure named (``agents_ready="1"``: testid ``agents-ready``)
        reads as given."""
        wanted = {name.replace("_", "-"): value for name, value in expected.items()}

        def matches(figures: Figures) -> bool:
            return all(figures.get(key) == value for key, value in wanted.items())

        return await self.until(", ".join(f"{k}={v}" for k, v in wanted.items()), matches)

    def screenshot(self) -> None:
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(SCREENSHOT))


def number(figures: Figures, key: str) -> int:
    return int(figures[key])


def seconds(text: str) -> int:
    """A time shown as m:ss or h:mm:ss."""
    assert re.fullmatch(r"\d+(:\d\d){1,2}", text), text
    total = 0
    for part in text.split(":"):
        total = total * 60 + int(part)
    return total


def check_call(result: SippResult) -> None:
    assert result.successful and result.answered, result.describe()


async def test_the_wallboard_follows_the_calls(
    engine: EngineProcess, acd: AcdProbe, browser: WebDriver
) -> None:
    page = Page(browser)
    try:
        await _follow_the_calls(engine, acd, page)
    except BaseException:
        page.screenshot()  # the page as it was when things went wrong
        raise


async def _follow_the_calls(engine: EngineProcess, acd: AcdProbe, page: Page) -> None:
    token = engine._cli("token", "create", "wallboard-test", "--role", "supervisor").stdout
    url = f"http://127.0.0.1:{engine.http_port}/wallboard?token={token.strip()}"
    await asyncio.to_thread(page.driver.get, url)

    # Nobody logged in, nobody waiting (the acd fixture); today's figures so far.
    start = await page.shows(connection="live", agents_ready="0", waiting_total="0")
    assert start["sl-definition"].startswith("answered within 20 s"), start
    zone = load_settings().calendar.timezone  # the engine's (Asia/Shanghai)
    assert start["timezone"] == zone
    # The clock and the day are the hotline's, whatever the zone of the screen's computer.
    hotline_now = datetime.now(ZoneInfo(zone))
    assert start["day"] == hotline_now.date().isoformat() or hotline_now.hour == 0, start
    drift = abs(seconds(start["clock"]) - seconds(hotline_now.strftime("%H:%M:%S")))
    assert min(drift, 86400 - drift) < 5, (start["clock"], hotline_now)
    assert start["agents-logged-in"] == "0" and start["queue-gotone-ready"] == "0"
    before = {
        key: number(start, key)
        for key in (
            "queue-gotone-abandoned",
            "queue-general-answered",
            "answered-total",
            "abandoned-total",
            "ivr-calls-today",
        )
    }

    # An agent logs in from the phone: ready goes up, on the centre and its queues.
    check_call(await place_call("8021", "*11", max_duration=20))
    shown = await page.shows(agents_ready="1", agent_8021_state="ready")
    assert shown["agent-8021-name"] == "Agent 8021" and shown["agents-logged-in"] == "1"
    assert shown["queue-general-ready"] == "1" and shown["queue-gotone-ready"] == "0"

    # Another is on a break: paused, with the reason, and not counted as ready.
    acd.log_in("8001")
    acd.event("8001", "pause", reason="lunch")
    shown = await page.shows(agents_paused="1", agent_8001_state="paused")
    assert shown["agent-8001-reason"] == "lunch" and shown["agents-ready"] == "1"
    assert shown["queue-gotone-paused"] == "1" and shown["queue-vip-paused"] == "1"

    # A caller walks the menus: in the IVR while the call lasts, one more call today.
    walking = asyncio.create_task(place_call(M_ZONE, "10086", hangup_after=8, max_duration=30))
    await page.shows(ivr_in_menus="1", ivr_on_hotline="1")
    check_call(await walking)
    await page.shows(ivr_in_menus="0", ivr_on_hotline="0")
    await page.until(
        "one more IVR call today",
        lambda f: number(f, "ivr-calls-today") >= before["ivr-calls-today"] + 1,
    )

    # A GoTone caller asks for an agent: nobody free has the skill, so the call waits.
    waiting = asyncio.create_task(
        place_call(GOTONE, "10086", keys=[ZERO], hangup_after=14, max_duration=40)
    )
    shown = await page.shows(waiting_total="1", queue_gotone_waiting="1", ivr_on_hotline="1")
    assert shown["ivr-in-menus"] == "0"  # with the ACD now, not in the menus
    longest = await page.until(
        "the wait counting up",
        lambda f: (
            f["queue-gotone-longest-wait"] != "\u2014"
            and seconds(f["queue-gotone-longest-wait"]) >= 3
        ),
    )
    assert seconds(longest["longest-wait"]) >= 3
    page.screenshot()
    check_call(await waiting)  # the caller hangs up: abandoned
    await page.shows(
        waiting_total="0",
        queue_gotone_waiting="0",
        queue_gotone_abandoned=str(before["queue-gotone-abandoned"] + 1),
        abandoned_total=str(before["abandoned-total"] + 1),
        longest_wait="\u2014",
    )

    # An Easy Own caller asks for an agent: 8021 answers; on a call, then wrap-up.
    async with await answer_as_agent(
        "8021", talk_for=talk_for("general") + 3, max_duration=60
    ) as phone:
        caller = asyncio.create_task(place_call(EASY_OWN, "10086", keys=[ZERO], max_duration=60))
        shown = await page.shows(agent_8021_state="on call", agents_on_call="1")
        assert shown["agent-8021-queue"].startswith("general"), shown
        assert shown["agent-8021-queue"].endswith("158****8000"), shown
        assert shown["queue-general-busy"] == "0 / 1"
        check_call(await caller)
        agent_result = await phone.result(timeout=60)
    assert agent_result.answered, agent_result.describe()
    await page.shows(
        agent_8021_state="wrap-up",
        waiting_total="0",
        queue_general_answered=str(before["queue-general-answered"] + 1),
        answered_total=str(before["answered-total"] + 1),
    )
    final = page.figures()
    assert final["service-level"] != "\u2014"  # one call answered today at least
    shown_exits = [final[k] for k in final if k.startswith("exit-") and k.endswith("-outcome")]
    assert shown_exits, final  # today's calls ended somewhere
