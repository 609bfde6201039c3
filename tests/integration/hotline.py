"""What a hotline call did, from Asterisk's side (the AMI observer) and the engine's (its
journal record): the prompts the caller heard, where the dialplan sent the call, and the
journal steps of one kind.

The caller heard exactly the sound files the engine streamed on the caller's channel:
``STREAM FILE "hotline/<prompt>" ...`` AGI commands (AGIExecStart events), in order.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ivr_engine.data.demo import DemoCard, DemoSubscriber, read_demo
from ivr_engine.interpreter.calendar import Calendar
from ivr_engine.settings import load_settings
from ivr_engine.speech.numbers import money_prompts, number_prompts
from testbed.observer import AmiObserver

_STREAM = re.compile(r'^STREAM FILE "?hotline/([^" ]+)"?')


def now() -> datetime:
    """A journal ``since`` bound: calls started from now on."""
    return datetime.now(UTC)


def money(amount: str) -> list[str]:
    """The prompts that read ``amount`` yuan in Mandarin (元 角 分)."""
    return money_prompts(Decimal(amount), "zh")


def number(n: int) -> list[str]:
    return number_prompts(n, "zh")


def heard(observer: AmiObserver, channel: str, *, wait_hangup: bool = True) -> list[str]:
    """The prompts streamed to ``channel``, in order (waits for its hang-up first, so that
    the list is complete)."""
    if wait_hangup:
        observer.hangup(channel, timeout=15)
    found: list[str] = []
    for command in observer.agi_commands(channel):
        match = _STREAM.match(command)
        if match:
            found.append(match.group(1))
    return found


@dataclass(frozen=True)
class Played:
    """One STREAM FILE on the channel: the prompt and when it started and ended
    (``time.monotonic()`` of the AGIExecStart / AGIExecEnd events)."""

    prompt: str
    start: float
    end: float


def timeline(observer: AmiObserver, channel: str) -> list[Played]:
    """The prompts streamed to ``channel`` with their start and end times."""
    ends = {e.get("CommandId"): e.received for e in observer.events("AGIExecEnd", Channel=channel)}
    played: list[Played] = []
    for event in observer.events("AGIExecStart", Channel=channel):
        match = _STREAM.match(event.get("Command") or "")
        if match and event.get("CommandId") in ends:
            played.append(Played(match.group(1), event.received, ends[event.get("CommandId")]))
    return played


def dialled_apps(observer: AmiObserver, channel: str) -> list[str]:
    """The AppData of every Dial the channel ran, e.g. ``PJSIP/8001,30``."""
    return [data for app, data in observer.applications(channel) if app == "Dial"]


def dial_statuses(observer: AmiObserver, channel: str) -> list[tuple[str, str]]:
    """(DestChannel, DialStatus) of every DialEnd of the channel's Dials."""
    return [
        (e.get("DestChannel") or "", e.get("DialStatus") or "")
        for e in observer.events("DialEnd", Channel=channel)
    ]


def steps(record: dict[str, Any], kind: str) -> list[str]:
    """The details of the record's steps of one kind, in order."""
    return [str(s["detail"]) for s in record["steps"] if s["kind"] == kind]


def kinds(record: dict[str, Any]) -> list[str]:
    return [str(s["kind"]) for s in record["steps"]]


def explain(record: dict[str, Any], observer: AmiObserver | None = None) -> str:
    """The journal record (and the AGI commands Asterisk saw) for an assertion message."""
    shown = json.dumps(
        {k: v for k, v in record.items() if k != "steps"}, ensure_ascii=False, indent=1
    )
    lines = [shown, "steps:"]
    lines += [f"  {s['offset_ms']:>6} {s['kind']}: {s['detail']}" for s in record["steps"]]
    if observer is not None:
        lines.append("AGI commands:")
        lines += [f"  {c}" for c in observer.agi_commands(str(record["channel"]))]
    return "\n".join(lines)


def subscriber(number: str) -> DemoSubscriber:
    """The demo file's entry for a subscriber."""
    for entry in read_demo().subscribers:
        if entry.number == number:
            return entry
    raise KeyError(f"{number} is not a demo subscriber")


def unused_card(amount: str) -> DemoCard:
    """A demo top-up card of ``amount`` yuan that the demo file does not mark used."""
    for card in read_demo().topup_cards:
        if card.used_by is None and card.amount == Decimal(amount):
            return card
    raise KeyError(f"no unused {amount} yuan card in the demo data")


def occasion_prompts() -> list[str]:
    """The wishes 10086 adds after the welcome right now (the session engine runs on the
    real clock): holiday first, then weekend, else none."""
    settings = load_settings()
    calendar = Calendar.from_settings(settings.calendar, settings.path(settings.hotline.holidays))
    at = calendar.now()
    if calendar.is_holiday(at):
        return ["cm-holiday-wishes"]
    if calendar.is_weekend(at):
        return ["cm-weekend-wishes"]
    return []
