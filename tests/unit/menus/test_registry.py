"""Hot reload: a valid edit goes live for new calls, an invalid one is refused and the
running version stays; a call holding a version keeps it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr_engine.menus.conditions import condition_problems
from ivr_engine.menus.loader import MenuError
from ivr_engine.menus.registry import MenuRegistry

MENU = """entries: {"10086": hello}
nodes:
  hello: {type: hangup, prompts: [PROMPT], outcome: done}
"""


def _write(path: Path, prompt: str) -> None:
    path.write_text(MENU.replace("PROMPT", prompt))


async def test_valid_edit_goes_live_invalid_edit_is_refused(tmp_path: Path) -> None:
    menu = tmp_path / "m.yaml"
    _write(menu, "first")
    registry = MenuRegistry([tmp_path])
    first = registry.load()
    assert first.changed
    held = registry.current  # what a call in progress holds

    menu.write_text(MENU.replace("hangup", "hangupp").replace("PROMPT", "second"))
    refused = await registry.reload()
    assert not refused.changed and refused.version == first.version
    assert refused.problems and "m.yaml:3:" in refused.problems[0]
    assert registry.current is held
    assert registry.last_problems == refused.problems

    _write(menu, "second")
    live = await registry.reload()
    assert live.changed and live.version != first.version and not live.problems
    assert registry.current.nodes["hello"].prompts == ["second"]  # type: ignore[union-attr]
    assert held.nodes["hello"].prompts == ["first"]  # type: ignore[union-attr]
    assert registry.last_problems == ()

    unchanged = await registry.reload()
    assert not unchanged.changed and unchanged.version == live.version


async def test_first_load_must_succeed(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("nodes: []\n")
    with pytest.raises(MenuError):
        MenuRegistry([tmp_path]).load()


async def test_watcher_picks_up_an_edit(tmp_path: Path) -> None:
    menu = tmp_path / "m.yaml"
    _write(menu, "first")
    registry = MenuRegistry([tmp_path])
    before = registry.load().version
    registry.start_watching(0.02)
    try:
        _write(menu, "edited-prompt")
        for _ in range(200):
            await asyncio.sleep(0.02)
            if registry.current.version != before:
                break
        assert registry.current.version != before
    finally:
        await registry.stop_watching()


def test_times_of_day_are_checked() -> None:
    assert condition_problems({"time": {"from": "22:00", "to": "24:00"}}) == []
    assert condition_problems({"time": {"from": "24:30", "to": "08:00"}})
    assert condition_problems({"time": {"from": "7:00", "to": "08:00"}})
