"""Secrets and numbers in the journal and the logs, for calls through the real engine stack
(FastAGI server, call runner, interpreter, nodes) against an in-process Asterisk peer: the
service password and the card PIN are never written, not in the journal record (steps,
keys, AGI command traces) nor in any log line; caller numbers are kept as configured."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from ivr_engine.calls.call import ALL_KEYS
from ivr_engine.journal import CallRecord
from ivr_engine.privacy import JournalPrivacy, LogMasking
from tests.unit.nodes.support import MemoryBackend, profile, run_menu

CALLER = "13900139000"
PASSWORD = "864202"
CARD = "6222021234567890"
OTHER_NUMBER = "13700137000"

TOPUP = """
entries: {"10086": find}
nodes:
  find: {type: lookup, next: card, on_error: sorry}
  card: {type: collect, prompts: [enter-card], store: card, min: 16, max: 19, secret: true,
         next: topup}
  topup:
    type: transaction
    action: topup
    card_var: card
    password_prompts: [enter-password]
    wrong_password: [wrong-password]
    attempts_per_call: 3
    lock_after: 4
    say: [{prompt: topped-up}, {money: new_balance}]
    next: callback
    failed: failed
    locked: locked
    on_error: sorry
  callback: {type: collect, prompts: [enter-number], store: number, min: 11, max: 11,
             next: careless}
  careless: {type: collect, prompts: [enter-card-again], store: again, min: 16, max: 19,
             next: bye}
  bye: {type: hangup, outcome: self-service}
  failed: {type: hangup, prompts: [failed], outcome: failed}
  locked: {type: transfer, prompts: [locked], to: "8001"}
  sorry: {type: transfer, prompts: [sorry], to: "8001"}
"""
KEYS = [CARD + "#", "111111", PASSWORD, OTHER_NUMBER, CARD + "#"]


def _backend() -> MemoryBackend:
    return MemoryBackend(
        profiles={CALLER: profile(CALLER)},
        passwords={CALLER: PASSWORD},
        cards={CARD: Decimal(50)},
        balance={CALLER: Decimal("10.5")},
    )


def _texts(record: CallRecord) -> list[str]:
    """Every text of the record as the journal keeps it, without the times (whose digits
    could spell anything) and the escape digits of interruptible prompts ("0123456789*#")."""
    data = record.to_dict()
    times = {"at", "started_at", "ended_at"}
    texts = [str(v) for k, v in data.items() if k not in times | {"steps"}]
    texts += [str(v) for s in data["steps"] for k, v in s.items() if k not in times]
    return [t.replace(f'"{ALL_KEYS}"', "") for t in texts]


async def test_password_and_card_are_in_no_journal_step_and_no_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    backend = _backend()
    result = await run_menu(tmp_path, TOPUP, KEYS, caller=CALLER, backend=backend)
    assert result.record.outcome == "self-service"
    assert backend.balance[CALLER] == Decimal("60.5")  # the card and password did work
    assert result.steps("collected")[0] == "card=" + "*" * len(CARD)
    assert result.steps("password-wrong") == ["attempt 1, 1 failures in all"]
    # The second card was keyed into a collect not marked secret: still starred.
    assert result.steps("collected")[-1] == "again=" + "*" * len(CARD)
    texts = _texts(result.record)
    for secret in (CARD, PASSWORD, "111111"):
        assert not [t for t in texts if secret in t], secret
    assert CARD not in json.dumps(result.record.to_dict())
    # Full numbers by default: the caller and the number keyed in are journalled as such.
    assert result.record.caller == CALLER
    assert f"number={OTHER_NUMBER}" in result.steps("collected")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (CARD, PASSWORD, "111111"):
        assert secret not in logged


@pytest.mark.parametrize("mode", ["masked", "keyed"])
async def test_numbers_in_the_journal_are_masked_when_configured(tmp_path: Path, mode: str) -> None:
    privacy = JournalPrivacy(mode, key=b"the-hotline-journal-key")
    result = await run_menu(
        tmp_path, TOPUP, KEYS, caller=CALLER, backend=_backend(), privacy=privacy
    )
    assert result.record.outcome == "self-service"
    expected = "139****9000" if mode == "masked" else privacy.caller(CALLER)
    assert result.record.caller == expected
    assert f"number={'137****7000'}" in result.steps("collected")
    assert "137****7000" in result.record.keys
    texts = _texts(result.record)
    for secret in (CALLER, OTHER_NUMBER, CARD, PASSWORD):
        assert not [t for t in texts if secret in t], secret


@pytest.mark.parametrize(("numbers", "shown"), [(True, "137****7000"), (False, OTHER_NUMBER)])
async def test_numbers_in_the_engines_log_lines_are_masked_when_configured(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, numbers: bool, shown: str
) -> None:
    """A call to a number no menu answers: the runner logs the number dialled. Through the
    filter ``ivr-engine run`` installs it is masked, or shown with the setting off."""
    masking = LogMasking(numbers=numbers)
    caplog.handler.addFilter(masking)
    try:
        caplog.set_level(logging.DEBUG)
        result = await run_menu(tmp_path, TOPUP, caller=CALLER, dialled=OTHER_NUMBER)
    finally:
        caplog.handler.removeFilter(masking)
    assert result.record.outcome == "no-route"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"no flow for dialled number '{shown}'" in logged
    assert (OTHER_NUMBER in logged) is not numbers
