"""What a supervisor does to live calls, through AMI.

- listen, whisper, barge: ``Originate`` rings the supervisor's phone and, when it is
  answered, runs ``ChanSpy`` on the agent's channel: ``q`` (no beep, no name), ``E``
  (leave when the agent's call ends), plus ``w`` to whisper (the agent hears the
  supervisor, the caller does not) or ``B`` to barge (both hear the supervisor);
- transfer: ``Redirect`` takes the caller out of the agent's call and into the
  dialplan's ``[transfer]`` context (an agent seat, or another hotline number);
- hang up: ``Hangup`` ends the caller's channel.
The agent's side is then closed as any other end of call (the caller's FastAGI session
sees the Dial end, or the reconciler finds the channel gone).
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any, Protocol

log = logging.getLogger(__name__)


class SpyMode(StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


_OPTIONS = {SpyMode.LISTEN: "qE", SpyMode.WHISPER: "qEw", SpyMode.BARGE: "qEB"}


class ActionSender(Protocol):
    """What supervision needs of the AMI link (``ivr_engine.ami.AmiLink``)."""

    async def action(
        self, action: dict[str, str], timeout: float | None = None, *, first_reply: bool = False
    ) -> Any: ...


class ActionRefused(Exception):
    """Asterisk answered the action with an error."""


def _check(response: Any, what: str) -> None:
    if getattr(response, "success", False) is not True:
        why = response.get("Message", "refused") if hasattr(response, "get") else "refused"
        raise ActionRefused(f"{what}: {why}")


class Supervision:
    def __init__(self, ami: ActionSender, *, ring_timeout_s: float = 30.0) -> None:
        self.ami = ami
        self.ring_timeout_s = ring_timeout_s

    async def spy(self, mode: SpyMode, agent_endpoint: str, supervisor_phone: str) -> None:
        """Ring the supervisor's phone; on answer, spy on the agent's channel.

        ``agent_endpoint`` is the agent's dial string (``PJSIP/8001``): ChanSpy takes
        channels whose name starts with it and a dash, so 8001 never matches 80010."""
        action = {
            "Action": "Originate",
            "Channel": f"PJSIP/{supervisor_phone}",
            "Application": "ChanSpy",
            "Data": f"{agent_endpoint}-,{_OPTIONS[mode]}",
            "Timeout": str(round(self.ring_timeout_s * 1000)),
            "CallerID": f'"{mode.value} {agent_endpoint.rpartition("/")[2]}" <{supervisor_phone}>',
            "Async": "true",
        }
        log.info("supervisor %s on %s from phone %s", mode, agent_endpoint, supervisor_phone)
        # Asterisk's "successfully queued" is the answer: the phone rings on its own time.
        response = await self.ami.action(action, first_reply=True)
        _check(response, f"{mode} on {agent_endpoint}")

    async def transfer(self, caller_channel: str, to: str) -> None:
        action = {
            "Action": "Redirect",
            "Channel": caller_channel,
            "Context": "transfer",
            "Exten": to,
            "Priority": "1",
        }
        log.info("supervisor transfer of %s to %s", caller_channel, to)
        _check(await self.ami.action(action), f"transfer of {caller_channel}")

    async def hang_up(self, caller_channel: str) -> None:
        log.info("supervisor hang-up of %s", caller_channel)
        response = await self.ami.action(
            {"Action": "Hangup", "Channel": caller_channel, "Cause": "16"}
        )
        _check(response, f"hang-up of {caller_channel}")
