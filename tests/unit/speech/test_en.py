"""English numbers: American style, no "and"."""

from __future__ import annotations

import pytest

from ivr_engine.speech import number_prompts
from tests.unit.speech.spoken import en

CASES = [
    (0, "zero"),
    (1, "one"),
    (7, "seven"),
    (10, "ten"),
    (11, "eleven"),
    (13, "thirteen"),
    (15, "fifteen"),
    (19, "nineteen"),
    (20, "twenty"),
    (21, "twenty-one"),
    (40, "forty"),
    (58, "fifty-eight"),
    (99, "ninety-nine"),
    (100, "one hundred"),
    (101, "one hundred one"),
    (110, "one hundred ten"),
    (115, "one hundred fifteen"),
    (120, "one hundred twenty"),
    (123, "one hundred twenty-three"),
    (200, "two hundred"),
    (999, "nine hundred ninety-nine"),
    (1000, "one thousand"),
    (1001, "one thousand one"),
    (1010, "one thousand ten"),
    (1100, "one thousand one hundred"),
    (1234, "one thousand two hundred thirty-four"),
    (2000, "two thousand"),
    (10000, "ten thousand"),
    (10005, "ten thousand five"),
    (12000, "twelve thousand"),
    (20000, "twenty thousand"),
    (100000, "one hundred thousand"),
    (120000, "one hundred twenty thousand"),
    (999999, "nine hundred ninety-nine thousand nine hundred ninety-nine"),
    (1000000, "one million"),
    (1000005, "one million five"),
    (1001000, "one million one thousand"),
    (2500000, "two million five hundred thousand"),
    (100000000, "one hundred million"),
    (100010000, "one hundred million ten thousand"),
    (1000000000, "one billion"),
    (1000000001, "one billion one"),
    (1200000000, "one billion two hundred million"),
    (100000000000, "one hundred billion"),
    (
        123456789012,
        "one hundred twenty-three billion four hundred fifty-six million"
        " seven hundred eighty-nine thousand twelve",
    ),
    (
        999999999999,
        "nine hundred ninety-nine billion nine hundred ninety-nine million"
        " nine hundred ninety-nine thousand nine hundred ninety-nine",
    ),
]


@pytest.mark.parametrize(("n", "spoken"), CASES)
def test_number(n: int, spoken: str) -> None:
    assert number_prompts(n, "en") == en(spoken)


def test_ids_as_written() -> None:
    assert number_prompts(123, "en") == ["num/1", "num/hundred", "num/20", "num/3"]
    assert number_prompts(10005, "en") == ["num/10", "num/thousand", "num/5"]


@pytest.mark.parametrize("n", [-5, 10**12])
def test_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        number_prompts(n, "en")
