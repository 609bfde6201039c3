"""English readings as prompt ids: ``num/0``..``num/19``, ``num/20``..``num/90``, scales.

American style without "and": 123 → one hundred twenty-three ([num/1, num/hundred,
num/20, num/3]); 1005 → one thousand five; 2000000 → two million. Digit strings read
0 as zero.
"""

from __future__ import annotations

ONES = tuple(f"num/{d}" for d in range(20))  # zero .. nineteen
TENS = {d: f"num/{d * 10}" for d in range(2, 10)}  # twenty .. ninety
HUNDRED = "num/hundred"
THOUSAND = "num/thousand"
MILLION = "num/million"
BILLION = "num/billion"

_SCALES = ((10**9, BILLION), (10**6, MILLION), (10**3, THOUSAND))


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [ONES[hundreds], HUNDRED]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(TENS[tens])
        if ones:
            words.append(ONES[ones])
    elif rest:
        words.append(ONES[rest])
    return words


def cardinal(n: int) -> list[str]:
    """The prompt ids that say ``n`` (0 <= n < 10^12) in English."""
    if n == 0:
        return [ONES[0]]
    words: list[str] = []
    for value, scale in _SCALES:
        chunk = n // value % 1000
        if chunk:
            words += [*_below_thousand(chunk), scale]
    return words + _below_thousand(n % 1000)


def digit(char: str) -> str:
    return ONES[int(char)]
