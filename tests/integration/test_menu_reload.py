"""Hot reload of the menus under live calls, through the real Asterisk.

The session engine runs on its own copy of config/menus and checks it for edits every
0.5 s. A valid edit goes live for new calls while a call in progress finishes on the
version it started with; an invalid edit is refused (file:line: reason, in /health and as
409 from POST /api/v1/menus/reload) and new calls keep the last good version. Group customers'
calls go through the ACD: agent 8017 serves the group-customers queue, agent 8001 the vip
queue (neither serves the other's).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from testbed.acd import AcdProbe
from testbed.engine import EngineProcess
from testbed.observer import AmiObserver
from testbed.prompt_timing import seconds_of
from testbed.sipp import answer_as_agent, place_call
from tests.integration.acd_calls import agent_dials, assert_put_through, talk_for
from tests.integration.hotline import (
    explain,
    heard,
    now,
    occasion_prompts,
    steps,
)

pytestmark = pytest.mark.asterisk


def _write(path: Path, text: str) -> None:
    """Replace the file at once, as an editor saving it would (no half-written file)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} is not once in the menu file"
    return text.replace(old, new)


async def _wait_for_health(
    engine: EngineProcess, ready: Any, what: str, timeout: float = 5.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = engine.health()
        if health is not None and ready(health):
            return health
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} not seen in /health within {timeout} s:\n{engine.log_tail()}")


async def _call_group(
    agents: contextlib.AsyncExitStack, caller: str, agent: str, queue: str, key_at: float
) -> tuple[asyncio.Task[Any], asyncio.Task[Any]]:
    """A call pressing 8 (group customers) at ``key_at``, and the agent of ``queue`` who
    answers it (stopped with ``agents`` if the test ends before the call)."""
    phone = await agents.enter_async_context(
        await answer_as_agent(agent, answer_after=0.5, talk_for=talk_for(queue))
    )
    call = asyncio.create_task(place_call(caller, "10086", keys=[(key_at, "8")], max_duration=60))
    return call, asyncio.create_task(phone.result(timeout=60))


async def _check_call(call: asyncio.Task[Any], agent: asyncio.Task[Any]) -> None:
    result, agent_result = await call, await agent
    assert result.successful and result.far_hangup, result.describe()
    assert agent_result.answered, agent_result.describe()


async def test_edits_go_live_for_new_calls_only_and_a_bad_edit_is_refused(
    engine: EngineProcess, observer: AmiObserver, acd: AcdProbe
) -> None:
    acd.log_in("8017", "8001")
    menu_file = engine.menus_dir / "10086.yaml"
    original = menu_file.read_text(encoding="utf-8")
    old_version = engine.menu_version()
    # The edit: group customers hear another prompt and wait in another queue (vip).
    edited = _edit(original, "prompts: [cm-connecting-group]", "prompts: [cm-connecting-agent]")
    edited = _edit(edited, "queue: group-customers", "queue: vip")
    wishes = occasion_prompts()
    agents = contextlib.AsyncExitStack()
    try:
        # Call A sits through the welcome into the main menu, and presses 8 there later.
        a_key_at = seconds_of("cm-welcome-other", *wishes) + 3.0
        since_a = now()
        call_a = await _call_group(agents, "13300133101", "8017", "group-customers", a_key_at)
        for _ in range(100):
            health = engine.health()
            if health is not None and health["agi"]["live_sessions"] >= 1:
                break
            await asyncio.sleep(0.1)
        live = time.monotonic()

        _write(menu_file, edited)
        health = await _wait_for_health(
            engine, lambda h: h["menus"]["version"] != old_version, "the new menu version"
        )
        new_version = health["menus"]["version"]
        assert health["menus"]["refused_edit"] == []
        # A's key is still to come: the edit went live while A was in its menu.
        assert time.monotonic() - live < a_key_at - 1.0

        # Call B, started after the edit, presses 8 during the welcome.
        since_b = now()
        call_b = await _call_group(agents, "13300133102", "8001", "vip", 1.0)
        await _check_call(*call_b)
        await _check_call(*call_a)

        a = engine.call_from("13300133101", since=since_a)
        b = engine.call_from("13300133102", since=since_b)
        why = explain(a, observer) + "\n" + explain(b, observer)
        # A finished on the version it started with: the old prompt, the old queue.
        assert steps(a, "menu-version") == [old_version], why
        assert heard(observer, a["channel"]) == [
            "cm-welcome-other",
            *wishes,
            "cm-main-menu",
            "cm-connecting-group",
        ], why
        assert steps(a, "acd")[0] == "enter group-customers priority=5", why
        assert_put_through(observer, a, "8017")
        # B got the new version.
        assert steps(b, "menu-version") == [new_version], why
        assert heard(observer, b["channel"]) == ["cm-welcome-other", "cm-connecting-agent"], why
        assert steps(b, "acd")[0] == "enter vip priority=10", why
        assert_put_through(observer, b, "8001")

        # An invalid edit: refused, with the file, the line and the reason.
        _write(menu_file, _edit(edited, '"8": cm-group', '"8": cm-grup'))
        health = await _wait_for_health(
            engine, lambda h: h["menus"]["refused_edit"], "the refused edit"
        )
        refused = health["menus"]["refused_edit"]
        assert health["menus"]["version"] == new_version
        assert any(
            re.search(r"10086\.yaml:\d+: nodes\.cm-main\.options\.8: unknown node 'cm-grup'", p)
            for p in refused
        ), refused
        status, body = engine.reload_menus()
        assert status == 409, body
        assert (body["changed"], body["version"], body["problems"]) == (False, new_version, refused)

        # A new call still runs the last good version. (8001 is in wrap-up after B: it
        # says ready at once, so that C need not wait.)
        acd.wait_state("8001", "wrap-up")
        acd.event("8001", "ready")
        since_c = now()
        call_c = await _call_group(agents, "13300133103", "8001", "vip", 1.0)
        await _check_call(*call_c)
        c = engine.call_from("13300133103", since=since_c)
        why = explain(c, observer)
        assert steps(c, "menu-version") == [new_version], why
        assert heard(observer, c["channel"]) == ["cm-welcome-other", "cm-connecting-agent"], why
        assert agent_dials(observer, c["channel"]) == ["8001"], why
    finally:
        await agents.aclose()
        _write(menu_file, original)
        status, body = engine.reload_menus()
    assert status == 200 and body["version"] == old_version, body
    health = engine.health()
    assert health is not None
    assert health["menus"] == {"version": old_version, "refused_edit": []}
