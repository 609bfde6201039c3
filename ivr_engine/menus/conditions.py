"""Conditions of ``branch`` nodes (and of anything else that decides on the caller).

A condition is a mapping; every entry must hold (AND). Keys name what is tested:

    profile.<field>   the caller's profile (brand, vip, vip_level, status, ...)
    var.<name>        a call variable set by ``set`` or ``collect``
    counter.<name>    a counter (password failures, ...)
    caller.<field>    number, region, network
    time              {from: "HH:MM", to: "HH:MM"}   local time of day, to is exclusive
    weekday           [mon, tue, ...]
    weekend           true / false   (the calendar's weekend window)
    holiday           true / false   (the holiday calendar)
    any               [condition, ...]   at least one holds
    not               condition          does not hold

A value is compared for equality, or is an operator mapping: {eq, ne, in, not_in, gt, gte,
lt, lte}. Examples:

    {profile.brand: gotone, profile.vip: true}
    {profile.vip_level: {gte: 3}}
    {any: [{weekend: true}, {holiday: true}]}
"""

from __future__ import annotations

from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte")
SUBJECT_PREFIXES = ("profile.", "var.", "counter.", "caller.")
SPECIAL_KEYS = ("time", "weekday", "weekend", "holiday", "any", "not")

Condition = dict[str, Any]


def condition_problems(condition: Any, where: str = "when") -> list[str]:
    """What is wrong with a condition, as readable reasons (empty when it is valid)."""
    if not isinstance(condition, dict) or not condition:
        return [f"{where}: a condition is a non-empty mapping"]
    problems: list[str] = []
    for key, value in condition.items():
        at = f"{where}.{key}"
        if key == "any":
            if not isinstance(value, list) or not value:
                problems.append(f"{at}: expected a non-empty list of conditions")
            else:
                for i, item in enumerate(value):
                    problems += condition_problems(item, f"{at}[{i}]")
        elif key == "not":
            problems += condition_problems(value, at)
        elif key == "time":
            if not (
                isinstance(value, dict)
                and set(value) == {"from", "to"}
                and all(_is_hhmm(value[k]) for k in ("from", "to"))
            ):
                problems.append(f'{at}: expected {{from: "HH:MM", to: "HH:MM"}}')
        elif key == "weekday":
            days = value if isinstance(value, list) else [value]
            bad = [d for d in days if d not in WEEKDAYS]
            if bad or not days:
                problems.append(f"{at}: days are {', '.join(WEEKDAYS)}; got {bad or days}")
        elif key in ("weekend", "holiday"):
            if not isinstance(value, bool):
                problems.append(f"{at}: expected true or false")
        elif key.startswith(SUBJECT_PREFIXES) and len(key.split(".", 1)[1]) > 0:
            problems += _value_problems(value, at)
        else:
            problems.append(
                f"{at}: unknown test (use {', '.join(SPECIAL_KEYS)} or a key starting with "
                f"{', '.join(SUBJECT_PREFIXES)})"
            )
    return problems


def _value_problems(value: Any, at: str) -> list[str]:
    if not isinstance(value, dict):
        return []
    unknown = [op for op in value if op not in OPERATORS]
    if unknown or not value:
        return [f"{at}: operators are {', '.join(OPERATORS)}; got {unknown or 'none'}"]
    problems = []
    for op in ("in", "not_in"):
        if op in value and not isinstance(value[op], list):
            problems.append(f"{at}.{op}: expected a list")
    return problems


def _is_hhmm(text: Any) -> bool:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        return False
    hours, minutes = text[:2], text[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        return False
    return (int(hours) < 24 and int(minutes) < 60) or text == "24:00"
