"""Which channels exist in Asterisk right now, and which agents they belong to.

:func:`live_channels` asks Asterisk for every channel with the ``CoreShowChannels`` action
(one ``CoreShowChannel`` event per channel, then ``CoreShowChannelsComplete``). An agent
has a channel when a channel is named ``PJSIP/<endpoint>-<sequence>``, ringing, talking or
anything else, and the endpoint is an agent's (by default: a name of ASCII digits only).
The reconciler uses this to find agents the store believes busy but who have no channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ivr_engine.acd_asterisk.eventlist import ListActionFailed, list_events
from ivr_engine.ami import AmiLink

__all__ = ["LiveChannels", "channel_endpoint", "digits_only", "live_channels"]

_PREFIX = "PJSIP/"


@dataclass(frozen=True)
class LiveChannels:
    """The channels Asterisk listed: unique ids, channel names, agents with a channel."""

    unique_ids: frozenset[str]
    channels: frozenset[str]
    agents: frozenset[str]


def digits_only(name: str) -> bool:
    """True for a non-empty name of ASCII digits, like ``8001``."""
    return name.isascii() and name.isdigit()


def channel_endpoint(channel: str) -> str | None:
    """``8001`` for ``PJSIP/8001-0000002a``; None for channels of other technologies."""
    if not channel.startswith(_PREFIX):
        return None
    endpoint, dash, sequence = channel[len(_PREFIX) :].rpartition("-")
    if not dash or not endpoint or not sequence:
        return None
    return endpoint


async def live_channels(
    link: AmiLink, timeout: float = 5.0, *, is_agent: Callable[[str], bool] = digits_only
) -> LiveChannels:
    """Every channel Asterisk has now, and the agents (``is_agent`` endpoints) among them.

    Raises ``AmiUnavailable`` when the link is down or the list does not complete within
    ``timeout`` seconds.
    """
    events = await list_events(link, {"Action": "CoreShowChannels"}, "CoreShowChannel", timeout)
    unique_ids: set[str] = set()
    channels: set[str] = set()
    agents: set[str] = set()
    for event in events:
        unique_id = event.get("Uniqueid")
        channel = event.get("Channel")
        if not (isinstance(unique_id, str) and unique_id and isinstance(channel, str) and channel):
            # Asterisk always names both: an item without them is garbled, and the list
            # cannot say which calls are gone.
            raise ListActionFailed(f"CoreShowChannels listed an unreadable item: {event!r:.120}")
        unique_ids.add(unique_id)
        channels.add(channel)
        endpoint = channel_endpoint(channel)
        if endpoint is not None and is_agent(endpoint):
            agents.add(endpoint)
    return LiveChannels(frozenset(unique_ids), frozenset(channels), frozenset(agents))
