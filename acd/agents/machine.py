"""The agent state machine: which event is allowed in which state, and what it does.

``apply(status, event, at, ...)`` takes an agent's :class:`AgentStatus`, an event and the
moment it happened (epoch seconds, see :mod:`acd.agents.clock`) and returns the new status
and a :class:`StateChange` for the agent state log. It does no I/O: the caller stores both.
An event the current state does not allow raises :class:`TransitionError`, which names the
agent, the state and the event; the status is immutable, so nothing has changed.

Transition table (rows: event; columns: the state the agent is in; ``-``: refused)::

    event                    logged-out  available   reserved    on-call     wrap-up     paused
    log_in                   available1  -           -           -           -           -
    log_out                  -           logged-out  pending     pending     logged-out  logged-out
    pause                    -           paused      pending     pending     paused      paused2
    ready                    -           -           -           -           after3      available
    reserve                  -           reserved    -           -           -           -
    answer                   -           -           on-call     -           -           -
    ring_no_answer           -           -           after4      -           -           -
    reservation_cancelled    -           -           after       -           -           -
    call_end                 -           -           -           wrap-up5    -           -
    wrap_up_expired          -           -           -           -           after6      -
    supervisor_force_logout  -           logged-out  pending     pending     logged-out  logged-out
    supervisor_force_pause   -           paused      pending     pending     paused      paused2

``pending``: the agent keeps its state and call; the request is remembered in
``status.pending`` and carried out when the call is over (see below).
``after``: the call work is over: the pending request if there is one, else available.

1. ``paused`` with the policy's ``log_in_paused`` reason when that is set.
2. Only to another reason (break -> lunch); the same reason again is refused.
3. ``ready`` in wrap-up finishes wrap-up early.
4. Counts a missed call; at ``max_missed`` in a row: paused with reason ``missed-calls``.
5. Wrap-up when the queue's ``wrap_up_seconds`` > 0, else ``after``.
6. Only once the wrap-up deadline has passed (at or after it); earlier it is refused.

Rules in words:

- ``log_in`` starts a fresh session: no missed calls, nothing pending.
- ``pause`` needs a reason agents may choose (``break`` when none is given); a supervisor
  may use any configured reason and uses ``supervisor`` when none is given.
- Log out or pause while a call rings or is in progress: the call is never cut. The agent
  gets "log out / pause after this call": the state log gets an entry with the event and
  the reason but no change of state, and the request is carried out when the call work is
  over, that is after the call *and its wrap-up* (wrap-up ends with ``ready``, ``*14``, or
  when it expires), or when the ringing stops without an answer. A later request replaces
  an earlier one (pause lunch instead of break, log out instead of pause). Not wanted any
  more? Say ``ready`` once paused.
- A supervisor's force while a call rings or is in progress is also deferred, but it
  outranks the agent: an agent's request cannot replace it, and it applies as soon as the
  call ends, skipping wrap-up (a force in wrap-up applies at once, too).
- ``ring_no_answer`` counts a miss; ``missed_in_row`` goes back to 0 on ``answer``, on
  ``log_in`` and on ``ready``. ``reservation_cancelled`` (the caller hung up while it rang)
  is no miss. A pending request wins over the ``missed-calls`` pause.
- ``call_end`` records ``last_call_end`` and counts ``calls_today`` (:func:`new_day` resets
  it); the wrap-up deadline is ``at + wrap_up_seconds`` of the queue the call came from.
- ``answer``, ``ring_no_answer``, ``reservation_cancelled`` and ``call_end`` may name the
  call (``call_id=``); an event for another call than the agent's is refused (stale).
- ``since`` is when the agent entered its state; it moves on every change of state and of
  pause reason, not when only a pending request is noted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from acd.agents.policy import DEFAULT_POLICY, AgentPolicy
from acd.agents.states import (
    MISSED_CALLS,
    SUPERVISOR,
    AgentEvent,
    AgentState,
    PauseReasonError,
)

__all__ = [
    "AgentStatus",
    "Pending",
    "PendingKind",
    "StateChange",
    "TransitionError",
    "apply",
    "new_day",
    "wrap_up_remaining",
]


class PendingKind(StrEnum):
    PAUSE = "pause"
    LOG_OUT = "log-out"


@dataclass(frozen=True)
class Pending:
    """What happens once the current call work is over: pause (with reason) or log out."""

    kind: PendingKind
    reason: str | None = None
    forced: bool = False  # by a supervisor: an agent's own request cannot replace it


@dataclass(frozen=True)
class AgentStatus:
    agent_id: str
    state: AgentState = AgentState.LOGGED_OUT
    since: float = 0.0
    pause_reason: str | None = None
    pending: Pending | None = None
    missed_in_row: int = 0
    last_call_end: float | None = None
    calls_today: int = 0
    wrap_up_until: float | None = None
    current_call: str | None = None  # the call ringing, talked or wrapped up

    def __post_init__(self) -> None:
        if not self.agent_id:
            raise ValueError("an agent needs an id")

    @property
    def accepts_calls(self) -> bool:
        return self.state is AgentState.AVAILABLE


@dataclass(frozen=True)
class StateChange:
    """One line of the agent state log; ``from_state == to_state`` when only noted pending."""

    agent_id: str
    from_state: AgentState
    to_state: AgentState
    event: AgentEvent
    reason: str | None
    at: float


class TransitionError(Exception):
    """An event the agent's state does not allow."""

    def __init__(self, status: AgentStatus, event: AgentEvent, why: str) -> None:
        super().__init__(f"agent {status.agent_id} is {status.state}: {event} refused ({why})")
        self.agent_id = status.agent_id
        self.state = status.state
        self.event = event
        self.why = why


@dataclass(frozen=True)
class _Request:
    status: AgentStatus
    event: AgentEvent
    at: float
    policy: AgentPolicy
    reason: str | None
    call_id: str | None
    wrap_up_seconds: float

    @property
    def state(self) -> AgentState:
        return self.status.state

    def refuse(self, why: str) -> TransitionError:
        return TransitionError(self.status, self.event, why)


_Outcome = tuple[AgentStatus, str | None]  # new status, reason for the state log
_NOT_IN = "not logged in"


def apply(
    status: AgentStatus,
    event: AgentEvent | str,
    at: float,
    *,
    policy: AgentPolicy = DEFAULT_POLICY,
    reason: str | None = None,
    call_id: str | None = None,
    wrap_up_seconds: float = 0.0,
) -> tuple[AgentStatus, StateChange]:
    """Apply one event; ``reason`` for the pauses, ``call_id`` for the call events,
    ``wrap_up_seconds`` (the queue's) for ``call_end``."""
    request = _Request(status, AgentEvent(event), at, policy, reason, call_id, wrap_up_seconds)
    new, why = _HANDLERS[request.event](request)
    if new.state is not status.state or new.pause_reason != status.pause_reason:
        new = replace(new, since=at)
    change = StateChange(status.agent_id, status.state, new.state, request.event, why, at)
    return new, change


def wrap_up_remaining(status: AgentStatus, now: float) -> float:
    """Seconds of wrap-up left (0.0 when over or not in wrap-up)."""
    if status.state is not AgentState.WRAP_UP or status.wrap_up_until is None:
        return 0.0
    return max(0.0, status.wrap_up_until - now)


def new_day(status: AgentStatus) -> AgentStatus:
    """The status with ``calls_today`` back to 0 (the service calls this at midnight)."""
    return replace(status, calls_today=0)


def _idle(status: AgentStatus, state: AgentState, pause_reason: str | None = None) -> AgentStatus:
    """Enter available, paused or logged-out: no call, no wrap-up, nothing pending."""
    return replace(
        status,
        state=state,
        pause_reason=pause_reason,
        pending=None,
        current_call=None,
        wrap_up_until=None,
    )


def _after_call_work(status: AgentStatus) -> _Outcome:
    pending = status.pending
    if pending is None:
        return _idle(status, AgentState.AVAILABLE), None
    if pending.kind is PendingKind.LOG_OUT:
        return _idle(status, AgentState.LOGGED_OUT), pending.reason
    return _idle(status, AgentState.PAUSED, pending.reason), pending.reason


def _defer(r: _Request, pending: Pending) -> _Outcome:
    current = r.status.pending
    if current is not None and current.forced and not pending.forced:
        raise r.refuse(f"a supervisor's {current.kind} is pending")
    return replace(r.status, pending=pending), pending.reason


def _check_call(r: _Request) -> None:
    if r.call_id is not None and r.call_id != r.status.current_call:
        raise r.refuse(f"event for call {r.call_id}, the agent's call is {r.status.current_call}")


def _pause_reason(r: _Request, default: str, *, agent: bool) -> str:
    reason = default if r.reason is None else r.reason
    if r.state is AgentState.LOGGED_OUT:
        raise r.refuse(_NOT_IN)
    if r.state is AgentState.PAUSED and reason == r.status.pause_reason:
        raise r.refuse(f"already paused ({reason})")
    allowed = r.policy.pause_reasons
    if not (allowed.is_selectable(reason) if agent else reason in allowed):
        raise PauseReasonError(f"agent {r.status.agent_id}: {r.event} with reason {reason!r}")
    return reason


def _log_in(r: _Request) -> _Outcome:
    if r.state is not AgentState.LOGGED_OUT:
        raise r.refuse("already logged in")
    fresh = replace(r.status, missed_in_row=0)
    paused = r.policy.log_in_paused
    if paused is None:
        return _idle(fresh, AgentState.AVAILABLE), None
    return _idle(fresh, AgentState.PAUSED, paused), paused


def _log_out(r: _Request) -> _Outcome:
    if r.state is AgentState.LOGGED_OUT:
        raise r.refuse(_NOT_IN)
    if r.state.with_call:
        return _defer(r, Pending(PendingKind.LOG_OUT))
    return _idle(r.status, AgentState.LOGGED_OUT), None


def _pause(r: _Request) -> _Outcome:
    reason = _pause_reason(r, r.policy.default_pause_reason, agent=True)
    if r.state.with_call:
        return _defer(r, Pending(PendingKind.PAUSE, reason))
    return _idle(r.status, AgentState.PAUSED, reason), reason


def _ready(r: _Request) -> _Outcome:
    if r.state is AgentState.PAUSED:
        return _idle(replace(r.status, missed_in_row=0), AgentState.AVAILABLE), None
    if r.state is AgentState.WRAP_UP:
        return _after_call_work(r.status)
    why = {
        AgentState.LOGGED_OUT: _NOT_IN,
        AgentState.AVAILABLE: "already available",
    }.get(r.state, "the call is not over; pause or log out after it instead")
    raise r.refuse(why)


def _reserve(r: _Request) -> _Outcome:
    if r.state is not AgentState.AVAILABLE:
        raise r.refuse("only an available agent can be offered a call")
    if not r.call_id:
        raise ValueError(f"agent {r.status.agent_id}: reserve needs a call_id")
    return replace(r.status, state=AgentState.RESERVED, current_call=r.call_id), None


def _ringing(r: _Request) -> None:
    if r.state is not AgentState.RESERVED:
        raise r.refuse("no call is ringing the agent")
    _check_call(r)


def _answer(r: _Request) -> _Outcome:
    _ringing(r)
    return replace(r.status, state=AgentState.ON_CALL, missed_in_row=0), None


def _ring_no_answer(r: _Request) -> _Outcome:
    _ringing(r)
    missed = replace(r.status, missed_in_row=r.status.missed_in_row + 1)
    if missed.pending is not None:
        return _after_call_work(missed)
    if 0 < r.policy.max_missed <= missed.missed_in_row:
        return _idle(missed, AgentState.PAUSED, MISSED_CALLS), MISSED_CALLS
    return _idle(missed, AgentState.AVAILABLE), None


def _reservation_cancelled(r: _Request) -> _Outcome:
    _ringing(r)
    return _after_call_work(r.status)


def _call_end(r: _Request) -> _Outcome:
    if r.state is not AgentState.ON_CALL:
        raise r.refuse("the agent is not on a call")
    _check_call(r)
    seconds = r.wrap_up_seconds
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"agent {r.status.agent_id}: wrap_up_seconds {seconds} is not >= 0")
    ended = replace(r.status, last_call_end=r.at, calls_today=r.status.calls_today + 1)
    forced = ended.pending is not None and ended.pending.forced
    if seconds > 0 and not forced:
        return replace(ended, state=AgentState.WRAP_UP, wrap_up_until=r.at + seconds), None
    return _after_call_work(ended)


def _wrap_up_expired(r: _Request) -> _Outcome:
    if r.state is not AgentState.WRAP_UP:
        raise r.refuse("the agent is not in wrap-up")
    until = r.status.wrap_up_until
    if until is not None and r.at < until:
        raise r.refuse(f"wrap-up runs {until - r.at:g} s more")
    return _after_call_work(r.status)


def _force_logout(r: _Request) -> _Outcome:
    if r.state is AgentState.LOGGED_OUT:
        raise r.refuse(_NOT_IN)
    if r.state.with_call:
        return _defer(r, Pending(PendingKind.LOG_OUT, SUPERVISOR, forced=True))
    return _idle(r.status, AgentState.LOGGED_OUT), SUPERVISOR


def _force_pause(r: _Request) -> _Outcome:
    reason = _pause_reason(r, SUPERVISOR, agent=False)
    if r.state.with_call:
        return _defer(r, Pending(PendingKind.PAUSE, reason, forced=True))
    return _idle(r.status, AgentState.PAUSED, reason), reason


_HANDLERS: dict[AgentEvent, Callable[[_Request], _Outcome]] = {
    AgentEvent.LOG_IN: _log_in,
    AgentEvent.LOG_OUT: _log_out,
    AgentEvent.PAUSE: _pause,
    AgentEvent.READY: _ready,
    AgentEvent.RESERVE: _reserve,
    AgentEvent.ANSWER: _answer,
    AgentEvent.RING_NO_ANSWER: _ring_no_answer,
    AgentEvent.RESERVATION_CANCELLED: _reservation_cancelled,
    AgentEvent.CALL_END: _call_end,
    AgentEvent.WRAP_UP_EXPIRED: _wrap_up_expired,
    AgentEvent.SUPERVISOR_FORCE_LOGOUT: _force_logout,
    AgentEvent.SUPERVISOR_FORCE_PAUSE: _force_pause,
}
