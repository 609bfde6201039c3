"""classify_number: every China Mobile range and its edges; prefix stripping."""

from __future__ import annotations

import pytest

from ivr_engine.data.numbers import classify_number, normalise_number

ON_NET_PREFIXES = [
    *(f"134{d}" for d in "012345678"),
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "1571",
    "1572",
    "1574",
    "158",
    "159",
    "182",
    "187",
    "188",
]
# The neighbours of every range, and the other operators' ranges around them.
OTHER_PREFIXES = [
    "1349",  # Globalstar
    "133",
    "130",
    "146",
    "148",
    "149",
    "153",
    "1570",
    "1573",
    "1575",
    "1576",
    "1579",
    "156",
    "157",
    "160",
    "180",
    "181",
    "183",
    "186",
    "189",
    "199",
]


def full(prefix: str) -> str:
    return (prefix + "00000000000")[:11]


@pytest.mark.parametrize("prefix", ON_NET_PREFIXES)
def test_china_mobile_ranges_are_on_net(prefix: str) -> None:
    assert classify_number(full(prefix)) == "on-net"
    assert classify_number(prefix + "9" * (11 - len(prefix))) == "on-net"


@pytest.mark.parametrize("prefix", OTHER_PREFIXES)
def test_neighbouring_ranges_are_other(prefix: str) -> None:
    assert classify_number(full(prefix)) == "other"
    assert classify_number(prefix + "9" * (11 - len(prefix))) == "other"


@pytest.mark.parametrize(
    "number", ["+8613800138000", "8613800138000", "008613800138000", " 138-0013-8000 "]
)
def test_country_prefix_and_separators_are_stripped(number: str) -> None:
    assert normalise_number(number) == "13800138000"
    assert classify_number(number) == "on-net"


@pytest.mark.parametrize(
    "number",
    [
        "",
        "10086",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "01012345678",  # Beijing fixed line
        "+861012345678",  # fixed line with a country prefix
        "+8623800138000",  # not a mobile after the prefix
        "+4413800138000",  # another country
        "1380013800a",
        "１３８００１３８０００",  # full-width digits
        "anonymous",
    ],
)
def test_fixed_lines_and_junk_are_other(number: str) -> None:
    assert classify_number(number) == "other"


def test_only_a_real_country_prefix_is_stripped() -> None:
    assert normalise_number("01012345678") == "01012345678"
    assert normalise_number("+861012345678") == "+861012345678"
    assert normalise_number("86123") == "86123"
