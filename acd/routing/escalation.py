"""Escalation steps, maximum wait and the changes they make to a waiting call.

A queue's ``escalation`` is a list of steps with growing ``after`` (seconds in the queue,
counted from ``WaitingCall.in_queue_since``). Step *k* is in force once
``in_queue_since + after <= now``; the call's **stage** is the number of steps in force.

- Requirements in force: those of the last step in force that names requirements, else
  the queue's own. Typically later steps lower minimum levels or drop skills (a
  bullseye widening its rings), so more agents become eligible as the caller waits.
- Priority in force: the call's own priority plus the boosts of every step in force, so
  a caller who waited long can overtake fresh callers of the same class.
- Maximum wait: once ``in_queue_since + max_wait <= now`` the queue's ``on_max_wait``
  action applies (overflow, callback offer, or announcement then a destination). An
  overflowed call keeps ``entered_at`` (its place by age among the other queue's callers)
  and restarts the other queue's steps and max-wait clock (``queued_at = now``).

Every comparison is ``in_queue_since + after <= now``, the very sum ``next_change_at``
returns, so re-running routing at that instant always sees the change.
"""

from __future__ import annotations

from dataclasses import replace

from acd.routing.model import Action, QueueConfig, Requirements, WaitingCall


def stage_at(call: WaitingCall, queue: QueueConfig, now: float) -> int:
    """How many of the queue's escalation steps are in force for ``call`` at ``now``."""
    since = call.in_queue_since
    stage = 0
    for step in queue.escalation:
        if since + step.after <= now:
            stage += 1
        else:
            break
    return stage


def effective(call: WaitingCall, queue: QueueConfig, now: float) -> tuple[Requirements, int]:
    """The requirements and priority in force for ``call`` at ``now``."""
    _check(call, queue)
    stage = queue.stages[stage_at(call, queue, now)]
    return stage.requirements, call.priority + stage.priority_boost


def next_change_at(call: WaitingCall, queue: QueueConfig, now: float) -> float | None:
    """The next instant after ``now`` at which routing must look at ``call`` again.

    The earlier of: the next escalation step coming into force, the maximum wait being
    reached. ``None`` when neither lies ahead (the call then waits as it is).
    """
    _check(call, queue)
    since = call.in_queue_since
    step_at = next((since + s.after for s in queue.escalation if since + s.after > now), None)
    limit = None if queue.max_wait is None else since + queue.max_wait
    if limit is not None and limit <= now:
        limit = None
    if step_at is None or limit is None:
        return step_at if limit is None else limit
    return min(step_at, limit)


def max_wait_action(call: WaitingCall, queue: QueueConfig, now: float) -> Action | None:
    """The queue's max-wait action once ``call`` has waited ``max_wait`` in it, else None."""
    _check(call, queue)
    if queue.max_wait is None or call.in_queue_since + queue.max_wait > now:
        return None
    return queue.on_max_wait


def overflowed(call: WaitingCall, queue: str, now: float) -> WaitingCall:
    """``call`` moved to ``queue`` at ``now``: same place by age, that queue's clocks restart."""
    return replace(call, queue=queue, queued_at=now)


def declined(call: WaitingCall, agent_id: str) -> WaitingCall:
    """``call`` after ``agent_id`` let it ring out: same place, never offered to them again."""
    return replace(call, declined_by=call.declined_by | {agent_id})


def _check(call: WaitingCall, queue: QueueConfig) -> None:
    if call.queue != queue.name:
        raise ValueError(f"call {call.id!r} waits in {call.queue!r}, not in {queue.name!r}")
