"""The in-memory journal record of one call.

A ``CallRecord`` is created when the call arrives and mutated as it runs (steps, keys,
finish). The writer persists *snapshots* of it, so it is never shared with the database
code while it changes. All times are timezone-aware and kept in UTC.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from ground.clock import as_utc, utc_now

# Who ended the call: the caller, the engine, Asterisk itself (a restart, an operator's
# hang-up), or unknown (the connection was lost, the engine crashed).
HANGUP_SIDES = frozenset({"caller", "engine", "asterisk", "unknown"})

_MILLISECOND = timedelta(milliseconds=1)

# A caller who floods the keypad, or a menu that loops, must not grow a record without
# bound. The keys keep their first MAX_KEYS, then KEYS_CUT; the steps keep their first
# STEPS_HEAD, one "truncated" step saying how many were left out, and the newest
# STEPS_TAIL (so the end of the call, its outcome, is always there).
MAX_KEYS = 256
KEYS_CUT = "…"
STEPS_HEAD = 400
STEPS_TAIL = 200
MAX_STEPS = STEPS_HEAD + 1 + STEPS_TAIL
TRUNCATED = "truncated"


def new_call_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Step:
    """One thing that happened during a call, e.g. ``Step(at, "prompt", "welcome")``."""

    at: datetime
    kind: str
    detail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc(self.at))


@dataclass(kw_only=True)
class CallRecord:
    call_id: str = field(default_factory=new_call_id)
    caller: str
    dialled: str
    channel: str
    unique_id: str
    started_at: datetime = field(default_factory=utc_now)
    ended_at: datetime | None = None
    outcome: str | None = None
    hangup_side: str | None = None
    keys: str = ""
    steps: list[Step] = field(default_factory=list)
    instance: str = ""

    def __post_init__(self) -> None:
        self.started_at = as_utc(self.started_at)
        if self.ended_at is not None:
            self.ended_at = as_utc(self.ended_at)

    @property
    def finished(self) -> bool:
        return self.ended_at is not None

    @property
    def truncated(self) -> bool:
        """True once keys or steps were cut (see MAX_KEYS, MAX_STEPS)."""
        return self.keys.endswith(KEYS_CUT) or (
            len(self.steps) > STEPS_HEAD and self.steps[STEPS_HEAD].kind == TRUNCATED
        )

    def add_step(self, kind: str, detail: str = "", at: datetime | None = None) -> Step:
        step = Step(utc_now() if at is None else at, kind, detail)
        steps = self.steps
        if len(steps) >= MAX_STEPS:
            marker = steps[STEPS_HEAD]
            # The first time the marker takes the place of a step: two are left out.
            left_out = int(marker.detail.split()[0]) + 1 if marker.kind == TRUNCATED else 2
            steps[STEPS_HEAD] = Step(marker.at, TRUNCATED, f"{left_out} steps left out")
            del steps[STEPS_HEAD + 1]  # the oldest of the newest
        steps.append(step)
        return step

    def add_keys(self, keys: str, at: datetime | None = None) -> None:
        """Record keys the caller pressed (appended in order) and a ``keys`` step.

        Past MAX_KEYS the keys end with KEYS_CUT and no more are kept."""
        if not keys:
            return
        if self.keys.endswith(KEYS_CUT):
            return
        room = MAX_KEYS - len(self.keys)
        if len(keys) > room:
            keys = keys[:room] + KEYS_CUT
        self.keys += keys
        self.add_step("keys", keys[:MAX_KEYS] if len(keys) > MAX_KEYS else keys, at)

    def finish(self, outcome: str, hangup_side: str, at: datetime | None = None) -> bool:
        """End the call. The first finish wins; later calls change nothing and return False."""
        if hangup_side not in HANGUP_SIDES:
            raise ValueError(f"hangup_side must be one of {sorted(HANGUP_SIDES)}")
        if not outcome:
            raise ValueError("outcome must not be empty")
        if self.ended_at is not None:
            return False
        self.ended_at = utc_now() if at is None else as_utc(at)
        self.outcome = outcome
        self.hangup_side = hangup_side
        return True

    def snapshot(self) -> CallRecord:
        """An independent copy of the current state (steps are immutable, the list is not)."""
        return replace(self, steps=list(self.steps))

    def offset_ms(self, at: datetime) -> int:
        """Whole milliseconds from the call start to ``at``."""
        return (at - self.started_at) // _MILLISECOND

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ISO 8601 UTC times, steps with their offset from the call start."""
        return {
            "call_id": self.call_id,
            "caller": self.caller,
            "dialled": self.dialled,
            "channel": self.channel,
            "unique_id": self.unique_id,
            "instance": self.instance,
            "started_at": self.started_at.isoformat(),
            "ended_at": None if self.ended_at is None else self.ended_at.isoformat(),
            "outcome": self.outcome,
            "hangup_side": self.hangup_side,
            "keys": self.keys,
            "steps": [
                {
                    "at": step.at.isoformat(),
                    "kind": step.kind,
                    "detail": step.detail,
                    "offset_ms": self.offset_ms(step.at),
                }
                for step in self.steps
            ],
        }
