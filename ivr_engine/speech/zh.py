"""Mandarin readings as prompt ids: the pieces ``num/0``..``num/9``, 十 百 千 万 亿, 两 and 幺.

Rules (what a 10086-style hotline says):

* Sections of four digits: 亿 (10^8) and 万 (10^4) follow their section, 千 百 十 follow
  their digit. Trailing zeros are silent (100 → 一百, 120000 → 十二万).
* 零: one 零 stands for any run of zeros, inside a section or across whole zero sections,
  that lies between two spoken digits (10005 → 一万零五, 1010 → 一千零一十,
  100010000 → 一亿零一万, 100001000 → 一亿零一千).
* 十: at the very start of the number 一十 is said 十 (10 → 十, 12 → 十二, 120000 → 十二万,
  1200000000 → 十二亿); anywhere else the 一 stays (110 → 一百一十, 100100000 → 一亿零一十万).
* 两: a 2 is said 两 when it is the first spoken digit of its section and the next word is
  百, 千, 万 or 亿 (200 → 两百, 2000 → 两千, 20000 → 两万, 2200 → 两千二百,
  12000 → 一万两千, 200000000 → 两亿). Everywhere else it is 二: before 十, as units and
  after another digit of its section (22 → 二十二, 2 → 二, 220000 → 二十二万, 1200 → 一千二百).
  When counting something (``counting=True``: before 元 角 分 分钟 兆) the number 2 on
  its own is 两 too (两元, 两角, 两分钟), while 12 and 22 keep 二 (十二元, 二十二元).
* Digit strings (phone numbers, account numbers) read 1 as 幺 (yao); 0 is 零 and 2 is 二.
"""

from __future__ import annotations

DIGIT = tuple(f"num/{d}" for d in range(10))
LIANG = "num/liang"  # 两
YAO = "num/yao"  # 幺
TEN = "num/10"  # 十
HUNDRED = "num/100"  # 百
THOUSAND = "num/1000"  # 千
WAN = "num/10000"  # 万
YI = "num/100000000"  # 亿

_POSITIONS = (THOUSAND, HUNDRED, TEN, None)  # the digits of a four-digit section
_LIANG_BEFORE = (HUNDRED, THOUSAND, WAN, YI)


def cardinal(n: int, *, counting: bool = False) -> list[str]:
    """The prompt ids that say ``n`` (0 <= n < 10^12) in Mandarin."""
    if n == 0:
        return [DIGIT[0]]
    if counting and n == 2:
        return [LIANG]
    words: list[str] = []
    zero_pending = False
    sections = ((n // 10**8, YI), (n // 10**4 % 10**4, WAN), (n % 10**4, None))
    for section, section_unit in sections:
        if section == 0:
            zero_pending = bool(words)
            continue
        digits = (section // 1000, section // 100 % 10, section // 10 % 10, section % 10)
        first_in_section = True
        for digit, unit in zip(digits, _POSITIONS, strict=True):
            if digit == 0:
                zero_pending = bool(words)
                continue
            if zero_pending:
                words.append(DIGIT[0])
                zero_pending = False
            next_word = unit or section_unit
            if digit == 1 and unit == TEN and not words:
                words.append(TEN)  # 十, not 一十, at the start
            elif digit == 2 and first_in_section and next_word in _LIANG_BEFORE:
                words.append(LIANG)
                if unit:
                    words.append(unit)
            else:
                words.append(DIGIT[digit])
                if unit:
                    words.append(unit)
            first_in_section = False
        if section_unit:
            words.append(section_unit)
    return words


def digit(char: str) -> str:
    """One digit of a digit string: 1 is 幺."""
    return YAO if char == "1" else DIGIT[int(char)]
