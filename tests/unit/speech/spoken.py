"""Write expected readings as text: 一万零五 or "one hundred twenty-three" -> prompt ids.

The maps are written out by hand, independently of ivr_engine.speech, so the tables in
the tests read like what a caller hears.
"""

from __future__ import annotations

import re

ZH = {
    "零": "num/0",
    "一": "num/1",
    "二": "num/2",
    "三": "num/3",
    "四": "num/4",
    "五": "num/5",
    "六": "num/6",
    "七": "num/7",
    "八": "num/8",
    "九": "num/9",
    "两": "num/liang",
    "幺": "num/yao",
    "十": "num/10",
    "百": "num/100",
    "千": "num/1000",
    "万": "num/10000",
    "亿": "num/100000000",
    "元": "money/yuan",
    "角": "money/jiao",
    "分": "money/fen",
    "负": "money/minus",
    "兆": "unit/mb",
}
ZH_WORDS = {"分钟": "unit/minutes", "星号": "key/star", "井号": "key/pound"}

EN = {
    "zero": "num/0",
    "one": "num/1",
    "two": "num/2",
    "three": "num/3",
    "four": "num/4",
    "five": "num/5",
    "six": "num/6",
    "seven": "num/7",
    "eight": "num/8",
    "nine": "num/9",
    "ten": "num/10",
    "eleven": "num/11",
    "twelve": "num/12",
    "thirteen": "num/13",
    "fourteen": "num/14",
    "fifteen": "num/15",
    "sixteen": "num/16",
    "seventeen": "num/17",
    "eighteen": "num/18",
    "nineteen": "num/19",
    "twenty": "num/20",
    "thirty": "num/30",
    "forty": "num/40",
    "fifty": "num/50",
    "sixty": "num/60",
    "seventy": "num/70",
    "eighty": "num/80",
    "ninety": "num/90",
    "hundred": "num/hundred",
    "thousand": "num/thousand",
    "million": "num/million",
    "billion": "num/billion",
    "yuan": "money/yuan",
    "fen": "money/fen",
    "minus": "money/minus",
    "megabytes": "unit/mb",
    "megabyte": "unit/megabyte",
    "minutes": "unit/minutes",
    "minute": "unit/minute",
    "star": "key/star",
    "pound": "key/pound",
}


def zh(text: str) -> list[str]:
    ids: list[str] = []
    i = 0
    while i < len(text):
        word = text[i : i + 2]
        if word in ZH_WORDS:
            ids.append(ZH_WORDS[word])
            i += 2
        else:
            ids.append(ZH[text[i]])
            i += 1
    return ids


def en(text: str) -> list[str]:
    return [EN[word] for word in re.split(r"[ -]+", text) if word]
