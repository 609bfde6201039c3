"""Which agent endpoints Asterisk reports as free, from AMI device states.

Asterisk publishes the state of every device; an agent's phone is the device
``PJSIP/<endpoint>``, and the endpoint name is the agent id. :class:`DeviceStates` keeps the
latest state per agent from ``DeviceStateChange`` events (:meth:`DeviceStates.attach`) and
can reload the full picture with the ``DeviceStateList`` action
(:meth:`DeviceStates.refresh`), after a reconnect say, when events may have been missed.
Other devices (``Queue:``, ``Custom:``, ``Local/`` ...) are ignored.

A refresh replaces everything known with Asterisk's list, except for the events heard
while the list was on its way: those are newer, or as new, and are laid over the list.

An agent is reachable and free when the state is ``NOT_INUSE`` or ``UNKNOWN`` (never heard
of, or a device Asterisk cannot tell about); any other state, including one this module does
not know, means the phone should not be rung now.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from ivr_engine.acd_asterisk.eventlist import list_events
from ivr_engine.ami import AmiLink

__all__ = ["FREE_STATES", "UNKNOWN", "DeviceStates", "agent_of_device"]

UNKNOWN = "UNKNOWN"
FREE_STATES = frozenset({"NOT_INUSE", UNKNOWN})
_PREFIX = "PJSIP/"


def agent_of_device(device: str) -> str | None:
    """The endpoint name of a ``PJSIP/<endpoint>`` device, or None for any other device."""
    if not device.startswith(_PREFIX):
        return None
    return device[len(_PREFIX) :] or None


class DeviceStates:
    """The latest Asterisk device state of each agent endpoint."""

    def __init__(self) -> None:
        self._states: dict[str, str] = {}
        self._heard_during_refresh: dict[int, dict[str, str]] = {}
        self._refresh_ids = itertools.count()

    def attach(self, link: AmiLink) -> None:
        """Follow the ``DeviceStateChange`` events of ``link``."""
        link.on_event("DeviceStateChange", self.handle_event)

    def handle_event(self, event: Mapping[str, Any]) -> None:
        """Record one ``DeviceStateChange`` event (fields ``Device`` and ``State``)."""
        found = _parse(event)
        if found is None:
            return
        agent, state = found
        self._states[agent] = state
        for heard in self._heard_during_refresh.values():
            heard[agent] = state

    async def refresh(self, link: AmiLink, timeout: float = 5.0) -> None:
        """Replace what is known with Asterisk's full ``DeviceStateList``.

        Raises ``AmiUnavailable`` when the link is down or the list does not complete
        within ``timeout`` seconds; what was known is then kept as it was.
        """
        refresh_id = next(self._refresh_ids)
        heard: dict[str, str] = {}
        self._heard_during_refresh[refresh_id] = heard
        try:
            events = await list_events(
                link, {"Action": "DeviceStateList"}, "DeviceStateChange", timeout
            )
        finally:
            del self._heard_during_refresh[refresh_id]
        states: dict[str, str] = {}
        for event in events:
            found = _parse(event)
            if found is not None:
                states[found[0]] = found[1]
        states.update(heard)
        self._states = states

    def state(self, agent_id: str) -> str:
        """The device state of ``agent_id``'s endpoint, ``UNKNOWN`` if never reported."""
        return self._states.get(agent_id, UNKNOWN)

    def reachable_and_free(self, agent_id: str) -> bool:
        """True if ``agent_id``'s phone may be rung now (``NOT_INUSE`` or ``UNKNOWN``)."""
        return self.state(agent_id) in FREE_STATES

    def unfit(self) -> frozenset[str]:
        """The agents whose phone is busy, ringing, on hold, unreachable or invalid."""
        return frozenset(agent for agent, state in self._states.items() if state not in FREE_STATES)

    def snapshot(self) -> dict[str, str]:
        """A copy of every known agent's state."""
        return dict(self._states)


def _parse(event: Mapping[str, Any]) -> tuple[str, str] | None:
    device = event.get("Device")
    state = event.get("State")
    if not isinstance(device, str) or not isinstance(state, str) or not state.strip():
        return None
    agent = agent_of_device(device.strip())
    if agent is None:
        return None
    return agent, state.strip().upper()
