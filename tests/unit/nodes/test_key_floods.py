"""Key floods through the real engine stack: a caller pressing keys as fast as RFC 2833
lets them through every prompt, hundreds of ``#`` and ``*``, a collect fed 10,000 digits.
The call ends as the menu says (or as a loop, when the caller keeps it looping), nothing
crashes, and the journal record stays bounded: its keys and steps are cut and say so."""

from __future__ import annotations

from pathlib import Path

from ivr_engine.journal.record import KEYS_CUT, MAX_KEYS, MAX_STEPS, STEPS_HEAD, TRUNCATED
from tests.unit.nodes.support import Outcome, run_menu

MENU = """
entries: {"10086": main}
defaults:
  keys: {"0": agent, "*": back, "#": repeat}
nodes:
  main:
    type: menu
    prompts: [main-menu, more-options]
    options: {"1": billing, "2": pin}
    timeout: 2
    no_input: {prompts: [[hear-me]], max: 2, then: bye}
    invalid: {prompts: [[wrong-key]], max: 3, then: agent}
  billing:
    type: menu
    prompts: [billing-menu]
    options: {"1": bye}
    invalid: {prompts: [[wrong-key]], max: 3, then: agent}
  pin:
    type: collect
    prompts: [enter-pin]
    store: pin
    min: 6
    max: 6
    timeout: 3
    secret: true
    no_input: {prompts: [[hear-me]], max: 2, then: bye}
    invalid: {prompts: [[wrong-key]], max: 2, then: agent}
    next: bye
  bye: {type: hangup, prompts: [goodbye], outcome: done}
  agent: {type: transfer, prompts: [connecting], to: "8001"}
"""


def _bounded(result: Outcome) -> None:
    record = result.record
    assert len(record.keys) <= MAX_KEYS + len(KEYS_CUT)
    assert len(record.steps) <= MAX_STEPS
    assert record.finished and record.outcome
    assert "outcome" in [step.kind for step in record.steps[-3:]]  # the end is kept


async def test_a_caller_looping_a_menu_with_thousands_of_keys_is_ended_bounded(
    tmp_path: Path,
) -> None:
    result = await run_menu(tmp_path, MENU, ["#"] * 3000)
    _bounded(result)
    record = result.record
    assert record.outcome == "loop-limit"
    assert record.keys.endswith(KEYS_CUT) and record.keys.count("#") == MAX_KEYS
    assert record.truncated
    marker = record.steps[STEPS_HEAD]
    assert marker.kind == TRUNCATED and marker.detail.endswith("steps left out")
    assert int(marker.detail.split()[0]) > 0


async def test_star_and_hash_storms_and_wrong_keys_end_as_the_menu_says(tmp_path: Path) -> None:
    storm = ["*", "#"] * 150 + ["9", "9", "9"]  # back, repeat ... then three wrong keys
    result = await run_menu(tmp_path, MENU, storm)
    _bounded(result)
    assert result.record.outcome == "transferred:8001"
    assert result.caller.variables["IVR_TRANSFER"] == "8001"
    assert result.steps("invalid-key") == ["main 9 #1", "main 9 #2", "main 9 #3"]
    assert result.heard[-1] == "connecting"


async def test_a_collect_fed_ten_thousand_digits_keeps_what_it_asked_for(tmp_path: Path) -> None:
    result = await run_menu(tmp_path, MENU, ["2", "1" * 10_000])
    _bounded(result)
    record = result.record
    assert result.steps("collected") == ["pin=******"]
    assert "111111" not in record.keys  # the secret stays starred
    assert record.outcome == "done"
    assert result.caller.buffer  # the rest of the flood was never read


async def test_a_terminator_storm_in_a_collect_counts_as_no_input_then_gives_up(
    tmp_path: Path,
) -> None:
    result = await run_menu(tmp_path, MENU, ["2", *(["#"] * 500)])
    _bounded(result)
    assert result.steps("no-input") == ["pin #1", "pin #2"]
    assert result.record.outcome == "done"
    assert result.heard[-1] == "goodbye"


async def test_hundreds_of_wrong_keys_during_prompts_are_three_misses(tmp_path: Path) -> None:
    result = await run_menu(tmp_path, MENU, ["1", *(["7"] * 400)])
    _bounded(result)
    assert result.steps("invalid-key") == ["billing 7 #1", "billing 7 #2", "billing 7 #3"]
    assert result.heard[-1] == "connecting"
