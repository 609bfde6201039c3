"""play and menu nodes: prompts, barge-in, options, menu-wide keys, back/repeat, and the
separate no-input and invalid-key counts with escalating prompts."""

from __future__ import annotations

from pathlib import Path

from tests.unit.nodes.support import run_menu

MENU = """
entries: {"10086": welcome}
defaults:
  keys: {"0": agent, "*": back, "#": repeat}
nodes:
  welcome: {type: play, prompts: [hello], barge_in: true, next: main}
  main:
    type: menu
    prompts: [main-menu]
    options: {"1": billing, "2": bye}
    timeout: 2
    no_input: {prompts: [[hear-me]], reprompt: false, max: 2, then: silent}
    invalid: {prompts: [[wrong-key], [wrong-key-again]], max: 3, then: agent}
  billing:
    type: menu
    prompts: [billing-menu]
    options: {"1": bye}
  bye: {type: hangup, prompts: [goodbye], outcome: done}
  silent: {type: hangup, prompts: [cannot-hear], outcome: silent-caller}
  agent: {type: transfer, prompts: [connecting], to: "8001"}
"""


async def test_key_pressed_during_welcome_is_taken_by_the_menu(tmp_path: Path) -> None:
    result = await run_menu(tmp_path, MENU, ["2"])
    assert result.heard == ["hello", "goodbye"]  # the menu prompt is skipped: typed ahead
    assert result.record.keys == "2"
    assert result.record.outcome == "done"
    assert result.caller.hung_up


async def test_silent_caller_is_asked_once_then_let_go(tmp_path: Path) -> None:
    result = await run_menu(tmp_path, MENU, ["-", "-", "-"])
    assert result.heard == ["hello", "main-menu", "hear-me", "cannot-hear"]
    assert result.record.outcome == "silent-caller"
    assert result.steps("no-input") == ["main #1", "main #2"]


async def test_invalid_keys_escalate_then_go_to_an_agent(tmp_path: Path) -> None:
    result = await run_menu(tmp_path, MENU, ["7", "7", "7"])
    # each key barges into the next prompt: the caller never waits for the whole menu
    assert result.heard == ["hello", "wrong-key", "wrong-key-again", "connecting"]
    assert result.caller.variables["IVR_TRANSFER"] == "8001"
    assert result.record.outcome == "transferred:8001"


async def test_no_input_and_invalid_are_counted_apart(tmp_path: Path) -> None:
    result = await run_menu(tmp_path, MENU, ["-", "7", "1", "1"])
    # one silence, one invalid key: each counted on its own, neither reaches its max
    assert result.steps("invalid-key") == ["main 7 #1"]
    assert result.steps("no-input") == ["main #1"]
    assert result.record.outcome == "done"


async def test_menu_wide_keys_back_and_repeat(tmp_path: Path) -> None:
    result = await run_menu(tmp_path, MENU, ["1", "#", "*", "0"])
    assert result.heard == ["hello", "billing-menu", "billing-menu", "main-menu", "connecting"]
    assert result.record.keys == "1#*0"


async def test_a_menu_without_retry_settings_ends_the_call_after_three_silences(
    tmp_path: Path,
) -> None:
    bare = MENU.replace(
        "    no_input: {prompts: [[hear-me]], reprompt: false, max: 2, then: silent}\n", ""
    ).replace('options: {"1": billing, "2": bye}', 'options: {"1": billing, "2": bye, "3": silent}')
    result = await run_menu(tmp_path, bare, ["-", "-", "-"])
    assert result.heard == ["hello", "main-menu", "main-menu", "main-menu"]
    assert result.record.outcome == "no-input"
    assert result.caller.hung_up
