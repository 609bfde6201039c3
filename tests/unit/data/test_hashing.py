"""Service passwords and card PINs are stored hashed."""

from __future__ import annotations

from ivr_engine.data.hashing import (
    card_key,
    check_password,
    hash_password,
    is_card_pin,
    is_password,
)


def test_password_hash_is_salted_and_checks() -> None:
    first, second = hash_password("123456"), hash_password("123456")
    assert first != second  # per-row salt
    assert "123456" not in first
    assert first.startswith("scrypt$16384$8$1$")
    assert check_password("123456", first)
    assert check_password("123456", second)
    assert not check_password("123457", first)
    assert not check_password("", first)


def test_missing_or_damaged_hashes_never_match() -> None:
    assert not check_password("123456", None)
    assert not check_password("123456", "")
    assert not check_password("123456", "plain$123456")
    assert not check_password("123456", "scrypt$16384$8$1$zz$zz")
    assert not check_password("123456", "md5$16384$8$1$00$00")


def test_card_key_is_deterministic_and_hides_the_pin() -> None:
    key = card_key("1000200030004000")
    assert key == card_key("1000200030004000")
    assert key != card_key("1000200030004001")
    assert "1000200030004000" not in key
    assert len(key) == 64


def test_formats() -> None:
    assert is_password("012345")
    assert not is_password("12345")
    assert not is_password("1234567")
    assert not is_password("12345a")
    assert not is_password("１２３４５６")
    assert is_card_pin("1" * 16)
    assert is_card_pin("1" * 19)
    assert not is_card_pin("1" * 15)
    assert not is_card_pin("1" * 20)
    assert not is_card_pin("1" * 15 + "x")
