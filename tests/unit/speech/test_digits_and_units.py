"""Digit strings (幺 for 1 in Mandarin), keys, and package remainders."""

from __future__ import annotations

import pytest

from ivr_engine.speech import data_prompts, digits_prompts, minutes_prompts
from tests.unit.speech.spoken import en, zh

DIGITS = [
    # text, Mandarin, English
    ("10086", "幺零零八六", "one zero zero eight six"),
    ("0123456789", "零幺二三四五六七八九", "zero one two three four five six seven eight nine"),
    ("111", "幺幺幺", "one one one"),
    ("2", "二", "two"),
    ("*", "星号", "star"),
    ("#", "井号", "pound"),
    ("*21#", "星号二幺井号", "star two one pound"),
    (
        "138-0013 8000",
        "幺三八零零幺三八零零零",
        "one three eight zero zero one three eight zero zero zero",
    ),
    ("", "", ""),
]


@pytest.mark.parametrize(("text", "mandarin", "english"), DIGITS)
def test_digits(text: str, mandarin: str, english: str) -> None:
    assert digits_prompts(text, "zh") == zh(mandarin)
    assert digits_prompts(text, "en") == en(english)


def test_digit_ids_as_written() -> None:
    assert digits_prompts("1*0#", "zh") == ["num/yao", "key/star", "num/0", "key/pound"]
    assert digits_prompts("1*0#", "en") == ["num/1", "key/star", "num/0", "key/pound"]


@pytest.mark.parametrize("text", ["12a", "+86", "1.5", "١٢"])
def test_not_keys(text: str) -> None:
    with pytest.raises(ValueError, match="is not a key"):
        digits_prompts(text, "zh")


def test_digits_unknown_language() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        digits_prompts("1", "yue")


DATA = [
    (0, "零兆", "zero megabytes"),
    (1, "一兆", "one megabyte"),
    (2, "两兆", "two megabytes"),
    (12, "十二兆", "twelve megabytes"),
    (20, "二十兆", "twenty megabytes"),
    (120, "一百二十兆", "one hundred twenty megabytes"),
    (200, "两百兆", "two hundred megabytes"),
    (1024, "一千零二十四兆", "one thousand twenty-four megabytes"),
    (20480, "两万零四百八十兆", "twenty thousand four hundred eighty megabytes"),
]


@pytest.mark.parametrize(("mb", "mandarin", "english"), DATA)
def test_data(mb: int, mandarin: str, english: str) -> None:
    assert data_prompts(mb, "zh") == zh(mandarin)
    assert data_prompts(mb, "en") == en(english)


MINUTES = [
    (0, "零分钟", "zero minutes"),
    (1, "一分钟", "one minute"),
    (2, "两分钟", "two minutes"),
    (10, "十分钟", "ten minutes"),
    (22, "二十二分钟", "twenty-two minutes"),
    (120, "一百二十分钟", "one hundred twenty minutes"),
    (200, "两百分钟", "two hundred minutes"),
    (1005, "一千零五分钟", "one thousand five minutes"),
]


@pytest.mark.parametrize(("n", "mandarin", "english"), MINUTES)
def test_minutes(n: int, mandarin: str, english: str) -> None:
    assert minutes_prompts(n, "zh") == zh(mandarin)
    assert minutes_prompts(n, "en") == en(english)


def test_unit_ids_as_written() -> None:
    assert minutes_prompts(120, "zh") == ["num/1", "num/100", "num/2", "num/10", "unit/minutes"]
    assert data_prompts(2, "zh") == ["num/liang", "unit/mb"]
    assert data_prompts(1, "en") == ["num/1", "unit/megabyte"]


@pytest.mark.parametrize("n", [-1, 10**12])
def test_units_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        data_prompts(n, "en")
    with pytest.raises(ValueError, match="out of range"):
        minutes_prompts(n, "zh")
