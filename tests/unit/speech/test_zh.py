"""Mandarin numbers: 零, 十 at the start, 两, 万 and 亿 sections."""

from __future__ import annotations

import pytest

from ivr_engine.speech import number_prompts
from tests.unit.speech.spoken import zh

CASES = [
    # units and tens: 二 everywhere below 百, 十 (not 一十) at the start
    (0, "零"),
    (1, "一"),
    (2, "二"),
    (5, "五"),
    (9, "九"),
    (10, "十"),
    (11, "十一"),
    (12, "十二"),
    (19, "十九"),
    (20, "二十"),
    (21, "二十一"),
    (22, "二十二"),
    (99, "九十九"),
    # hundreds: 两百, 零 for the empty tens, 一十 keeps its 一 after 百
    (100, "一百"),
    (101, "一百零一"),
    (102, "一百零二"),
    (110, "一百一十"),
    (111, "一百一十一"),
    (120, "一百二十"),
    (200, "两百"),
    (202, "两百零二"),
    (220, "两百二十"),
    (222, "两百二十二"),
    (999, "九百九十九"),
    # thousands: one 零 for any run of zeros between spoken digits, none at the end
    (1000, "一千"),
    (1001, "一千零一"),
    (1002, "一千零二"),
    (1010, "一千零一十"),
    (1011, "一千零一十一"),
    (1100, "一千一百"),
    (1200, "一千二百"),
    (1234, "一千二百三十四"),
    (2000, "两千"),
    (2002, "两千零二"),
    (2020, "两千零二十"),
    (2200, "两千二百"),
    (2222, "两千二百二十二"),
    (9999, "九千九百九十九"),
    # 万
    (10000, "一万"),
    (10005, "一万零五"),
    (10010, "一万零一十"),
    (10100, "一万零一百"),
    (10200, "一万零两百"),
    (11000, "一万一千"),
    (12000, "一万两千"),
    (12345, "一万两千三百四十五"),
    (20000, "两万"),
    (20002, "两万零二"),
    (22000, "两万两千"),
    (22222, "两万两千二百二十二"),
    (100000, "十万"),
    (100001, "十万零一"),
    (110000, "十一万"),
    (120000, "十二万"),
    (200000, "二十万"),
    (220000, "二十二万"),
    (1000000, "一百万"),
    (1010000, "一百零一万"),
    (2000000, "两百万"),
    (10000000, "一千万"),
    (10000001, "一千万零一"),
    (10010000, "一千零一万"),
    (12000000, "一千二百万"),
    (20000000, "两千万"),
    # 亿, and zero sections in between
    (100000000, "一亿"),
    (100000001, "一亿零一"),
    (100001000, "一亿零一千"),
    (100010000, "一亿零一万"),
    (100100000, "一亿零一十万"),
    (101000000, "一亿零一百万"),
    (110000000, "一亿一千万"),
    (120000000, "一亿两千万"),
    (200000000, "两亿"),
    (200020000, "两亿零两万"),
    (200000002, "两亿零二"),
    (1000000000, "十亿"),
    (1200000000, "十二亿"),
    (2000000000, "二十亿"),
    (10000000000, "一百亿"),
    (100000000000, "一千亿"),
    (100000000010, "一千亿零一十"),
    (123456789012, "一千二百三十四亿五千六百七十八万九千零一十二"),
    (999999999999, "九千九百九十九亿九千九百九十九万九千九百九十九"),
]


@pytest.mark.parametrize(("n", "spoken"), CASES)
def test_number(n: int, spoken: str) -> None:
    assert number_prompts(n, "zh") == zh(spoken)


def test_ids_as_written() -> None:
    assert number_prompts(10005, "zh") == ["num/1", "num/10000", "num/0", "num/5"]
    assert number_prompts(200, "zh") == ["num/liang", "num/100"]
    assert number_prompts(12, "zh") == ["num/10", "num/2"]
    assert number_prompts(100010000, "zh") == [
        "num/1",
        "num/100000000",
        "num/0",
        "num/1",
        "num/10000",
    ]


@pytest.mark.parametrize("n", [-1, 10**12, 10**15])
def test_out_of_range(n: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        number_prompts(n, "zh")


@pytest.mark.parametrize("language", ["", "cmn", "ZH", "fr"])
def test_unknown_language(language: str) -> None:
    with pytest.raises(ValueError, match="unknown language"):
        number_prompts(5, language)
