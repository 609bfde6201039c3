"""Send an AMI action that answers with a list of events, and return those events.

Asterisk answers such actions (``DeviceStateList``, ``CoreShowChannels``, ...) with
``Response: Success`` and ``EventList: start``, then one event per item carrying the
action's ActionID, then a closing event named ``<Action>Complete``. panoramisk 1.4 gathers
all of it and resolves the action's future with a plain ``list`` of messages: the response
first, then the item events, then the closing event. It resolves the future only when an
event whose name ends in ``Complete`` arrives. A refused action resolves to the single
``Response: Error`` message instead of a list. The item events never reach handlers
registered with ``AmiLink.on_event``: panoramisk gives every message that carries a pending
ActionID to that action.

A list whose closing event counts more (or fewer) items than arrived is refused: one item
dropped on the way must not make the engine believe a live channel is gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivr_engine.ami import AmiLink, AmiUnavailable

__all__ = ["ListActionFailed", "list_events"]


class ListActionFailed(AmiUnavailable):
    """Asterisk refused an event-list action, or answered it in an unexpected shape."""


async def list_events(
    link: AmiLink, action: dict[str, str], item_event: str, timeout: float
) -> list[Mapping[str, Any]]:
    """The ``item_event`` events listed in answer to ``action``, in the order Asterisk sent them.

    The whole list must arrive within ``timeout`` seconds, or ``AmiUnavailable`` is raised
    (as it is when the link is down); a refused action raises ``ListActionFailed``.
    """
    name = action.get("Action", "")
    answer = await link.action(action, timeout)
    if not isinstance(answer, list):
        reason = answer.get("Message", "") if isinstance(answer, Mapping) else repr(answer)
        raise ListActionFailed(f"AMI action {name} was refused: {reason or 'no reason given'}")
    if len(answer) < 2 or not str(answer[-1].get("Event", "")).endswith("Complete"):
        raise ListActionFailed(f"AMI action {name} answered with a malformed event list")
    items = answer[1:-1]
    count = answer[-1].get("ListItems")
    if isinstance(count, str) and count.strip().isdigit() and int(count) != len(items):
        # An item was lost on the way (dropped as unreadable or oversized): a partial list
        # would make present channels look gone.
        raise ListActionFailed(f"AMI action {name} listed {count} items but {len(items)} arrived")
    return [message for message in items if message.get("Event") == item_event]
