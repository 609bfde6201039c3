"""The shipped demo file covers every branch of the demo hotline, and bad files are refused."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ivr_engine.data.demo import DEFAULT_DEMO_FILE, DemoData, read_demo
from ivr_engine.data.hashing import is_card_pin
from ivr_engine.data.numbers import classify_number


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return read_demo(DEFAULT_DEMO_FILE)


def test_every_kind_of_subscriber_is_there(demo: DemoData) -> None:
    subs = demo.subscribers
    assert all(classify_number(s.number) == "on-net" for s in subs)
    assert any(s.brand == "gotone" and s.vip and s.vip_level == 3 for s in subs)
    assert {s.package for s in subs if s.brand == "gotone"} >= {"gotone-58", "gotone-88"}
    assert {s.brand for s in subs} == {"gotone", "mzone", "easyown"}
    assert any(s.home_region != demo.region for s in subs)
    assert any(s.status == "half-suspended" and s.balance < 0 for s in subs)
    assert any(s.status == "suspended" for s in subs)
    assert any(not s.vip and s.arpu >= 120 for s in subs)
    assert all(s.password is not None for s in subs)


def test_package_facts_follow_the_documents(demo: DemoData) -> None:
    facts = {name: (p.minutes, p.data_mb) for name, p in demo.packages.items()}
    assert facts["gotone-58"] == (50, 200)
    assert facts["gotone-88"] == (200, 300)
    assert facts["gotone-128"] == (420, 400)


def test_other_networks_are_not_subscribers(demo: DemoData) -> None:
    numbers = {s.number for s in demo.subscribers}
    assert not numbers & {"13300133000", "18600186000", "13490134900"}


def test_blacklist_and_cards(demo: DemoData) -> None:
    assert any(b.expires_at is None for b in demo.blacklist)
    assert any(b.expires_at is not None and b.expires_at.year < 2026 for b in demo.blacklist)
    assert all(is_card_pin(c.pin) for c in demo.topup_cards)
    assert {c.amount for c in demo.topup_cards} == {Decimal(50), Decimal(100)}
    assert sum(c.used_by is not None for c in demo.topup_cards) == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("region: x\nsubscribers: [{number: '1380013800'}]\n", "number"),
        ("region: x\nsubscribers: []\ntopup_cards: [{pin: '12345', amount: '50'}]\n", "pin"),
        (
            "region: x\nsubscribers:\n  - {number: '13800138000', brand: gotone, arpu: '1',"
            " home_region: x, balance: '1', bill: {month: 2026-10, total: '1', paid: true},"
            " package: gotone-999}\n",
            "undefined packages: gotone-999",
        ),
        ("region: x\nsubscribers: []\nblacklist: [{number: '13400134000'}]\nextra: 1\n", "extra"),
        ("[unclosed\n", "subscribers.yaml"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "subscribers.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=reason):
        read_demo(path)
