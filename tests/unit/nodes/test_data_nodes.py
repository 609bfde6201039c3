"""lookup, query and transaction nodes: data read back as money and numbers, local-only
charge queries, the service password with its shared lockout, and backend failures."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.unit.nodes.support import MemoryBackend, profile, run_menu

CALLER = "13800138000"
QUERY = """
entries: {"10086": find}
nodes:
  find: {type: lookup, next: balance, on_error: sorry}
  balance:
    type: query
    query: balance
    not_local: elsewhere
    say: [{prompt: your-balance}, {money: balance}]
    next: bye
    on_error: sorry
  bye: {type: hangup, outcome: self-service}
  elsewhere: {type: hangup, prompts: [call-home], outcome: not-local}
  sorry: {type: transfer, prompts: [sorry], to: "8001"}
"""


def _backend(**fields: object) -> MemoryBackend:
    return MemoryBackend(
        profiles={CALLER: profile(CALLER, **fields)},
        data={CALLER: {"balance": {"balance": Decimal("123.45")}}},
    )


async def test_balance_is_read_as_money(tmp_path: Path) -> None:
    result = await run_menu(tmp_path, QUERY, caller=CALLER, backend=_backend())
    assert result.heard[0] == "your-balance"
    assert result.heard[1:] == [
        "num/1",
        "num/100",
        "num/2",
        "num/10",
        "num/3",
        "money/yuan",
        "num/4",
        "money/jiao",
        "num/5",
        "money/fen",
    ]
    assert result.steps("query") == ["balance: balance=123.45"]
    assert result.record.outcome == "self-service"


async def test_charge_query_refused_to_other_regions(tmp_path: Path) -> None:
    backend = _backend(home_region="shanghai")
    result = await run_menu(tmp_path, QUERY, caller=CALLER, backend=backend)
    assert result.heard == ["call-home"]
    assert result.record.outcome == "not-local"


async def test_backend_failure_apologises_and_offers_an_agent(tmp_path: Path) -> None:
    backend = _backend()
    backend.failing = True
    result = await run_menu(tmp_path, QUERY, caller=CALLER, backend=backend)
    assert result.heard == ["sorry"]
    assert result.caller.variables["IVR_TRANSFER"] == "8001"
    assert result.steps("lookup-failed") == ["find: backend down"]


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
    next: bye
    failed: failed
    locked: locked
    on_error: sorry
  bye: {type: hangup, outcome: self-service}
  failed: {type: hangup, prompts: [failed], outcome: failed}
  locked: {type: transfer, prompts: [locked], to: "8001"}
  sorry: {type: transfer, prompts: [sorry], to: "8001"}
"""
CARD = "1234567890123456"


def _topup_backend() -> MemoryBackend:
    return MemoryBackend(
        profiles={CALLER: profile(CALLER)},
        passwords={CALLER: "864202"},
        cards={CARD: Decimal(50)},
        balance={CALLER: Decimal("10.5")},
    )


async def test_topup_behind_the_password(tmp_path: Path) -> None:
    backend = _topup_backend()
    result = await run_menu(
        tmp_path, TOPUP, [CARD + "#", "111111", "864202"], caller=CALLER, backend=backend
    )
    assert result.record.outcome == "self-service"
    assert backend.balance[CALLER] == Decimal("60.5")
    assert result.heard[:4] == ["enter-card", "enter-password", "wrong-password", "enter-password"]
    assert result.heard[4] == "topped-up"
    assert backend.counts == {}  # the right password cleared the failure count
    journal = " ".join(s.detail for s in result.record.steps)
    assert CARD not in journal and "864202" not in journal


async def test_failures_are_shared_across_calls_and_lock(tmp_path: Path) -> None:
    backend = _topup_backend()
    first = await run_menu(
        tmp_path, TOPUP, [CARD, "000000", "000000", "000000"], caller=CALLER, backend=backend
    )
    assert first.record.outcome == "failed"
    second = await run_menu(
        tmp_path, TOPUP, [CARD, "000000", "864202"], caller=CALLER, backend=backend
    )
    # the fourth failure in all locks, even though this call had tries left
    assert second.heard[-1] == "locked"
    assert second.caller.variables["IVR_TRANSFER"] == "8001"
    third = await run_menu(tmp_path, TOPUP, [CARD, "864202"], caller=CALLER, backend=backend)
    assert third.heard == ["enter-card", "locked"]  # locked before any password is asked
    assert backend.balance[CALLER] == Decimal("10.5")
