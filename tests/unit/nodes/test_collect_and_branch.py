"""collect (lengths, terminator, secret masking) and branch (profile, time, calendar)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from tests.unit.nodes.support import SHANGHAI, MemoryBackend, profile, run_menu

COLLECT = """
entries: {"10086": ask}
nodes:
  ask:
    type: collect
    prompts: [enter-card]
    store: card
    min: 4
    max: 6
    secret: true
    invalid: {prompts: [[bad-length]], max: 2, then: fail}
    next: ok
  ok: {type: hangup, outcome: collected}
  fail: {type: hangup, outcome: gave-up}
"""


async def test_secret_digits_are_stored_but_masked_in_the_journal(tmp_path: Path) -> None:
    result = await run_menu(tmp_path, COLLECT, ["98765#"])
    assert result.record.outcome == "collected"
    assert result.steps("collected") == ["card=*****"]
    assert result.record.keys == "*****"
    journal = " ".join(s.detail for s in result.record.steps)
    assert "98765" not in journal and "result=57" not in journal


async def test_too_short_entries_are_retried_then_given_up(tmp_path: Path) -> None:
    result = await run_menu(tmp_path, COLLECT, ["12#", "34#"])
    assert result.heard == ["enter-card", "bad-length"]  # the second try barged in
    assert result.record.outcome == "gave-up"


BRANCH = """
entries: {"10086": who}
nodes:
  who:
    type: branch
    cases:
      - when: {profile.blacklisted: true}
        goto: refuse
      - when: {any: [{profile.vip: true}, {profile.arpu: {gte: 120}}]}
        goto: vip
      - when: {holiday: true}
        goto: holiday
      - when: {weekend: true, profile.brand: {in: [gotone, mzone]}}
        goto: weekend
      - when: {time: {from: "22:00", to: "08:00"}}
        goto: night
    default: normal
  refuse: {type: hangup, outcome: refused}
  vip: {type: hangup, outcome: vip}
  holiday: {type: hangup, outcome: holiday}
  weekend: {type: hangup, outcome: weekend}
  night: {type: hangup, outcome: night}
  normal: {type: hangup, outcome: normal}
"""
CALLER = "13800138000"


async def _outcome(
    tmp_path: Path, now: datetime, holidays: frozenset[date] = frozenset(), **fields: object
) -> str | None:
    backend = MemoryBackend(profiles={CALLER: profile(CALLER, **fields)})
    lookup = BRANCH.replace('entries: {"10086": who}', 'entries: {"10086": find}') + (
        "  find: {type: lookup, next: who, on_error: normal}\n"
    )
    result = await run_menu(
        tmp_path, lookup, caller=CALLER, backend=backend, now=now, holidays=holidays
    )
    return result.record.outcome


async def test_branch_cases_in_order(tmp_path: Path) -> None:
    monday = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)
    friday_evening = datetime(2026, 11, 27, 19, 0, tzinfo=SHANGHAI)
    friday_afternoon = datetime(2026, 11, 27, 17, 59, tzinfo=SHANGHAI)
    saturday_late = datetime(2026, 11, 28, 23, 30, tzinfo=SHANGHAI)
    sunday_noon = datetime(2026, 11, 29, 12, 0, tzinfo=SHANGHAI)
    night = datetime(2026, 11, 24, 23, 0, tzinfo=SHANGHAI)
    assert await _outcome(tmp_path, monday, blacklisted=True, vip=True) == "refused"
    assert await _outcome(tmp_path, monday, vip=True) == "vip"
    assert await _outcome(tmp_path, monday, arpu=130) == "vip"
    assert await _outcome(tmp_path, monday, holidays=frozenset({monday.date()})) == "holiday"
    assert await _outcome(tmp_path, friday_evening) == "weekend"
    assert await _outcome(tmp_path, saturday_late, brand="mzone") == "weekend"
    assert await _outcome(tmp_path, friday_evening, brand="easyown") == "normal"
    assert await _outcome(tmp_path, friday_afternoon) == "normal"
    assert await _outcome(tmp_path, sunday_noon) == "normal"
    assert await _outcome(tmp_path, night) == "night"
