"""Agent states, the events that move an agent between them, and pause reasons.

An agent is always in exactly one of six states:

============  ==================================================================
logged-out    not working; gets no calls (every agent starts here)
available     logged in and idle: the router may offer it a call
reserved      the router picked the agent and a call is ringing its phone
on-call       talking to a caller
wrap-up       after a call: notes and follow-up; no calls until wrap-up ends
paused        logged in but taking no calls, always with a pause reason
============  ==================================================================

Events (the names the state log, the HTTP API and the feature codes use):
``log_in``, ``log_out``, ``pause``, ``ready`` (also spelled ``resume``), ``reserve``,
``answer``, ``ring_no_answer``, ``reservation_cancelled``, ``call_end``,
``wrap_up_expired``, ``supervisor_force_logout``, ``supervisor_force_pause``.
Which event is allowed in which state is in :mod:`acd.agents.machine`.

Pause reasons are short codes (lower-case letters, digits and dashes). The list agents may
choose from is configurable, in order: the default is ``break``, ``lunch``, ``training``,
``meeting``, numbered 1, 2, 3, 4 for the feature code ``*13*N``. Two more reasons are built
in and always exist, but only the ACD or a supervisor sets them, never an agent:
``missed-calls`` (the agent let too many calls ring out in a row) and ``supervisor``
(a supervisor paused the agent). They have no number and may not be in the configured list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "DEFAULT_PAUSE_REASONS",
    "MISSED_CALLS",
    "SUPERVISOR",
    "SYSTEM_PAUSE_REASONS",
    "AgentEvent",
    "AgentState",
    "PauseReasonError",
    "PauseReasons",
]


class AgentState(StrEnum):
    """Where an agent is; the value is the name stored and shown (``on-call``)."""

    LOGGED_OUT = "logged-out"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"
    PAUSED = "paused"

    @property
    def logged_in(self) -> bool:
        return self is not AgentState.LOGGED_OUT

    @property
    def with_call(self) -> bool:
        """A call is ringing the agent or the agent is talking (reserved or on-call)."""
        return self in (AgentState.RESERVED, AgentState.ON_CALL)


class AgentEvent(StrEnum):
    """Something that happens to an agent; ``AgentEvent("resume")`` is ``READY``."""

    LOG_IN = "log_in"
    LOG_OUT = "log_out"
    PAUSE = "pause"
    READY = "ready"
    RESERVE = "reserve"
    ANSWER = "answer"
    RING_NO_ANSWER = "ring_no_answer"
    RESERVATION_CANCELLED = "reservation_cancelled"
    CALL_END = "call_end"
    WRAP_UP_EXPIRED = "wrap_up_expired"
    SUPERVISOR_FORCE_LOGOUT = "supervisor_force_logout"
    SUPERVISOR_FORCE_PAUSE = "supervisor_force_pause"

    @classmethod
    def _missing_(cls, value: object) -> AgentEvent | None:
        return cls.READY if value == "resume" else None


MISSED_CALLS = "missed-calls"
SUPERVISOR = "supervisor"
SYSTEM_PAUSE_REASONS = (MISSED_CALLS, SUPERVISOR)

_CODE = re.compile(r"[a-z][a-z0-9-]*\Z")


class PauseReasonError(ValueError):
    """A pause reason that is not configured, or that an agent may not choose."""


@dataclass(frozen=True)
class PauseReasons:
    """The configured pause reasons agents choose from (numbered from 1), plus the built-in."""

    selectable: tuple[str, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for code in self.selectable:
            if not isinstance(code, str) or not _CODE.match(code):
                raise PauseReasonError(
                    f"pause reason {code!r}: use lower-case letters, digits and dashes"
                )
            if code in SYSTEM_PAUSE_REASONS:
                raise PauseReasonError(f"pause reason {code!r} is built in; do not configure it")
            if code in seen:
                raise PauseReasonError(f"pause reason {code!r} is listed twice")
            seen.add(code)

    @classmethod
    def of(cls, *codes: str) -> PauseReasons:
        return cls(tuple(codes))

    @property
    def all(self) -> tuple[str, ...]:
        """Every reason an agent can be paused with: the configured ones, then the built-in."""
        return self.selectable + SYSTEM_PAUSE_REASONS

    def __contains__(self, code: object) -> bool:
        return code in self.all

    def is_selectable(self, code: str) -> bool:
        """May an agent choose this reason himself?"""
        return code in self.selectable

    def by_number(self, number: int) -> str | None:
        """The reason with this number (1 = first configured), or None."""
        if 1 <= number <= len(self.selectable):
            return self.selectable[number - 1]
        return None

    def number_of(self, code: str) -> int | None:
        """The number of a configured reason; None for the built-in or unknown ones."""
        return self.selectable.index(code) + 1 if code in self.selectable else None


DEFAULT_PAUSE_REASONS = PauseReasons(("break", "lunch", "training", "meeting"))
