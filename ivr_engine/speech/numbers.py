"""Numbers, money, digit strings and package remainders as lists of prompt ids.

Every function returns the prompt ids to play in order (``Channel.play`` takes them as
they are); the ids are per language in ``prompts/catalogue.yaml``: ``num/5`` is 五 in zh
and "five" in en, while some ids exist in one language only (``num/liang`` in zh,
``num/hundred`` in en). The Mandarin rules are in :mod:`ivr_engine.speech.zh`, the
English ones in :mod:`ivr_engine.speech.en`.

Money is rounded to the fen (ROUND_HALF_UP, halves away from zero) and a negative amount
starts with ``money/minus`` (负 / minus); an amount that rounds to zero has no sign.

* zh: 元 角 分, zero parts left out, 零 when 角 is skipped between 元 and 分:
  123.45 → 一百二十三元四角五分, 100.05 → 一百元零五分, 0.50 → 五角, 12.30 → 十二元三角,
  0 → 零元, 2.20 → 两元两角.
* en: yuan and fen, the fen as a two-digit count (no jiao, no "and", both words invariant):
  123.45 → one hundred twenty-three yuan forty-five fen, 100.05 → one hundred yuan
  five fen, 0.50 → fifty fen, 12 → twelve yuan, 0 → zero yuan.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ivr_engine.speech import en, zh

LANGUAGES = ("zh", "en")
LIMIT = 10**12  # numbers (and whole yuan) below a trillion / 一万亿

MINUS = "money/minus"
YUAN = "money/yuan"
JIAO = "money/jiao"  # zh only
FEN = "money/fen"
STAR = "key/star"
POUND = "key/pound"
MEGABYTES = "unit/mb"
MEGABYTE = "unit/megabyte"  # en only: "one megabyte"
MINUTES = "unit/minutes"
MINUTE = "unit/minute"  # en only: "one minute"
_FEN = Decimal("0.01")
_SEPARATORS = " -"


def _check(n: int, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (expected one of {LANGUAGES})")
    if not 0 <= n < LIMIT:
        raise ValueError(f"{n} is out of range: 0 <= n < 10^12")


def number_prompts(n: int, language: str) -> list[str]:
    """Say the whole number ``n`` (0 <= n < 10^12): 12 → 十二 / twelve."""
    _check(n, language)
    return zh.cardinal(n) if language == "zh" else en.cardinal(n)


def _count(n: int, language: str) -> list[str]:
    """``n`` as a count before a measure word (两 for 2 in Mandarin)."""
    return zh.cardinal(n, counting=True) if language == "zh" else en.cardinal(n)


def money_prompts(amount: Decimal, language: str) -> list[str]:
    """Say an amount of yuan, rounded to the fen: 123.45 → 一百二十三元四角五分."""
    if not amount.is_finite() or abs(amount) >= LIMIT:
        raise ValueError(f"not an amount below 10^12 yuan: {amount}")
    fen_total = int(amount.quantize(_FEN, rounding=ROUND_HALF_UP).scaleb(2))
    yuan, cents = divmod(abs(fen_total), 100)
    _check(yuan, language)
    words = [MINUS] if fen_total < 0 else []
    if fen_total == 0:
        return [*number_prompts(0, language), YUAN]
    if language == "en":
        if yuan:
            words += [*en.cardinal(yuan), YUAN]
        if cents:
            words += [*en.cardinal(cents), FEN]
        return words
    jiao, fen = divmod(cents, 10)
    if yuan:
        words += [*_count(yuan, language), YUAN]
    if jiao:
        words += [*_count(jiao, language), JIAO]
    elif yuan and fen:
        words.append(zh.DIGIT[0])  # 一百元零五分
    if fen:
        words += [*_count(fen, language), FEN]
    return words


def digits_prompts(text: str, language: str) -> list[str]:
    """Read a key sequence digit by digit: 0-9, ``*`` and ``#``; spaces and ``-`` are skipped.

    Mandarin reads 1 as 幺 (``num/yao``), as in phone numbers: 10086 → 幺零零八六.
    """
    _check(0, language)
    words: list[str] = []
    for char in text:
        if char in _SEPARATORS:
            continue
        if char == "*":
            words.append(STAR)
        elif char == "#":
            words.append(POUND)
        elif char in "0123456789":
            words.append(zh.digit(char) if language == "zh" else en.digit(char))
        else:
            raise ValueError(f"{text!r}: {char!r} is not a key")
    return words


def data_prompts(megabytes: int, language: str) -> list[str]:
    """A data remainder: 两兆, 一百二十兆 / two megabytes, one megabyte."""
    _check(megabytes, language)
    unit = MEGABYTE if language == "en" and megabytes == 1 else MEGABYTES
    return [*_count(megabytes, language), unit]


def minutes_prompts(n: int, language: str) -> list[str]:
    """A call-time remainder: 一百二十分钟 / one hundred twenty minutes, one minute."""
    _check(n, language)
    unit = MINUTE if language == "en" and n == 1 else MINUTES
    return [*_count(n, language), unit]
