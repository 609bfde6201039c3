"""Money: 元 角 分 in Mandarin, yuan and fen in English, rounded to the fen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ivr_engine.speech import money_prompts
from tests.unit.speech.spoken import en, zh

CASES = [
    # amount, Mandarin, English
    ("123.45", "一百二十三元四角五分", "one hundred twenty-three yuan forty-five fen"),
    ("100.05", "一百元零五分", "one hundred yuan five fen"),
    ("100.50", "一百元五角", "one hundred yuan fifty fen"),
    ("100", "一百元", "one hundred yuan"),
    ("0.50", "五角", "fifty fen"),
    ("0.05", "五分", "five fen"),
    ("0.55", "五角五分", "fifty-five fen"),
    ("0.01", "一分", "one fen"),
    ("0", "零元", "zero yuan"),
    ("0.00", "零元", "zero yuan"),
    ("12.30", "十二元三角", "twelve yuan thirty fen"),
    ("12.3", "十二元三角", "twelve yuan thirty fen"),
    ("10", "十元", "ten yuan"),
    ("10.5", "十元五角", "ten yuan fifty fen"),
    ("1", "一元", "one yuan"),
    ("1.01", "一元零一分", "one yuan one fen"),
    # 两 for a lone 2 before 元 角 分; 十二 and 二十二 keep 二
    ("2", "两元", "two yuan"),
    ("2.22", "两元两角两分", "two yuan twenty-two fen"),
    ("0.2", "两角", "twenty fen"),
    ("0.02", "两分", "two fen"),
    ("12", "十二元", "twelve yuan"),
    ("22", "二十二元", "twenty-two yuan"),
    ("200", "两百元", "two hundred yuan"),
    ("2000.20", "两千元两角", "two thousand yuan twenty fen"),
    ("10005.08", "一万零五元零八分", "ten thousand five yuan eight fen"),
    ("120000", "十二万元", "one hundred twenty thousand yuan"),
    ("100000000.99", "一亿元九角九分", "one hundred million yuan ninety-nine fen"),
    # negative balances (arrears): 负
    ("-5", "负五元", "minus five yuan"),
    ("-12.34", "负十二元三角四分", "minus twelve yuan thirty-four fen"),
    ("-0.5", "负五角", "minus fifty fen"),
    # rounding to the fen, halves away from zero
    ("0.005", "一分", "one fen"),
    ("0.004", "零元", "zero yuan"),
    ("-0.004", "零元", "zero yuan"),
    ("-0.005", "负一分", "minus one fen"),
    ("1.995", "两元", "two yuan"),
    ("9.999", "十元", "ten yuan"),
    ("123.454", "一百二十三元四角五分", "one hundred twenty-three yuan forty-five fen"),
    ("123.455", "一百二十三元四角六分", "one hundred twenty-three yuan forty-six fen"),
    ("999999999999.99", "九千九百九十九亿九千九百九十九万九千九百九十九元九角九分", None),
]


@pytest.mark.parametrize(("amount", "mandarin", "english"), CASES)
def test_money(amount: str, mandarin: str, english: str | None) -> None:
    assert money_prompts(Decimal(amount), "zh") == zh(mandarin)
    if english is not None:
        assert money_prompts(Decimal(amount), "en") == en(english)


def test_ids_as_written() -> None:
    assert money_prompts(Decimal("100.05"), "zh") == [
        "num/1",
        "num/100",
        "money/yuan",
        "num/0",
        "num/5",
        "money/fen",
    ]
    assert money_prompts(Decimal("-0.5"), "en") == ["money/minus", "num/50", "money/fen"]


@pytest.mark.parametrize(
    "amount", ["1000000000000", "999999999999.995", "-1000000000000", "1e20", "NaN", "Infinity"]
)
def test_not_an_amount(amount: str) -> None:
    for language in ("zh", "en"):
        with pytest.raises(ValueError):
            money_prompts(Decimal(amount), language)


def test_unknown_language() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        money_prompts(Decimal("1.00"), "de")
