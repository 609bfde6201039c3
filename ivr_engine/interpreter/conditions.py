"""Evaluate a branch condition against a call (the language is in menus/conditions.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.conditions import WEEKDAYS, Condition


def holds(condition: Condition, ctx: CallContext, now: datetime | None = None) -> bool:
    at = now or ctx.services.calendar.now()
    return all(_test(key, value, ctx, at) for key, value in condition.items())


def _test(key: str, value: Any, ctx: CallContext, at: datetime) -> bool:
    calendar = ctx.services.calendar
    if key == "any":
        return any(holds(item, ctx, at) for item in value)
    if key == "not":
        return not holds(value, ctx, at)
    if key == "time":
        now = f"{at.hour:02d}:{at.minute:02d}"
        start, end = str(value["from"]), str(value["to"])
        return start <= now < end if start <= end else now >= start or now < end
    if key == "weekday":
        days = value if isinstance(value, list) else [value]
        return WEEKDAYS[at.weekday()] in days
    if key == "weekend":
        return calendar.is_weekend(at) is value
    if key == "holiday":
        return calendar.is_holiday(at) is value
    return compare(ctx.subject(key), value)


def compare(actual: Any, expected: Any) -> bool:
    if not isinstance(expected, dict):
        return _same(actual, expected)
    for op, operand in expected.items():
        if op == "eq" and not _same(actual, operand):
            return False
        if op == "ne" and _same(actual, operand):
            return False
        if op == "in" and not any(_same(actual, o) for o in operand):
            return False
        if op == "not_in" and any(_same(actual, o) for o in operand):
            return False
        if op in ("gt", "gte", "lt", "lte") and not _ordered(actual, op, operand):
            return False
    return True


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if actual is None:
        return expected is None
    try:
        return float(actual) == float(expected)
    except (TypeError, ValueError):
        return str(actual) == str(expected)


def _ordered(actual: Any, op: str, operand: Any) -> bool:
    try:
        a, b = float(actual), float(operand)
    except (TypeError, ValueError):
        return False
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
