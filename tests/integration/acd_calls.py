"""Hotline calls that reach an agent through the ACD, as Asterisk and the journal show them.

The caller waits in its FastAGI session; the engine dials the reserved agent with
``Dial(PJSIP/80NN,<ring timeout>,gmU(acd-agent^<call id>^<host>^<port>))``: the agent's
leg runs the ``acd-agent`` subroutine when the agent answers, where the engine plays the
whisper (``acd-whisper-<queue>``) on the AGENT's channel before the caller is connected.
"""

from __future__ import annotations

import re
from typing import Any

from testbed.observer import AmiObserver
from testbed.prompt_timing import prompt_seconds
from tests.integration.hotline import dial_statuses, explain, steps

_EXEC = re.compile(r'^EXEC "?([A-Za-z]+)"? ?"?(.*?)"?$')

RING_S = 15  # the queues' ring timeout (acd/config.py's default, none is configured)
TALK = 1.5  # seconds an agent talks to the caller once the whisper is over


def talk_for(queue: str) -> float:
    """How long an agent's SIPp phone stays on the line after it answered: the whisper of
    ``queue`` (played on the agent's channel before the caller is connected), then a short
    talk. An agent that hung up during the whisper would never reach the caller."""
    return prompt_seconds(f"acd-whisper-{queue}") + TALK


def dial_prefix(agent: str) -> str:
    """The start of the Dial's AppData when the ACD rings ``agent``."""
    return f"PJSIP/{agent},{RING_S},gmU(acd-agent^"


def executed(observer: AmiObserver, channel: str, application: str) -> list[str]:
    """The data of every ``application`` the engine ran on the channel with AGI EXEC
    (``EXEC "Dial" "PJSIP/8001,15,gmU(...)"``), in order."""
    found: list[str] = []
    for command in observer.agi_commands(channel):
        match = _EXEC.match(command)
        if match and match.group(1) == application:
            found.append(match.group(2).replace('\\"', '"'))
    return found


def acd_dials(observer: AmiObserver, channel: str) -> list[str]:
    """The AppData of every Dial the ACD ran on the caller's channel (through AGI EXEC)."""
    return executed(observer, channel, "Dial")


def agent_dials(observer: AmiObserver, channel: str) -> list[str]:
    """The agents the caller's channel dialled, in order (``8001``, ...)."""
    return [data.split(",", 1)[0].removeprefix("PJSIP/") for data in acd_dials(observer, channel)]


def assert_put_through(
    observer: AmiObserver, record: dict[str, Any], agent: str, *, agi_port: int | None = None
) -> None:
    """The call was dialled to ``agent`` by the ACD (once), the agent answered, and the
    journal says so: offered to the agent, then talked."""
    channel = str(record["channel"])
    why = explain(record, observer)
    apps = acd_dials(observer, channel)
    assert len(apps) == 1 and apps[0].startswith(dial_prefix(agent)), why
    if agi_port is not None:
        assert apps[0] == f"{dial_prefix(agent)}{record['call_id']}^127.0.0.1^{agi_port})", why
    statuses = dial_statuses(observer, channel)
    assert [(d.split("-")[0], s) for d, s in statuses] == [(f"PJSIP/{agent}", "ANSWER")], (
        f"{statuses}\n{why}"
    )
    acd = steps(record, "acd")
    assert f"offer {agent}" in acd and f"talked {agent}" in acd, why
    assert acd.index(f"offer {agent}") < acd.index(f"talked {agent}"), why


def agent_channels(observer: AmiObserver, caller_channel: str) -> list[str]:
    """The agents' channels the caller's Dials created (DialBegin DestChannel), in order."""
    return [
        e.get("DestChannel") or ""
        for e in observer.events("DialBegin", Channel=caller_channel)
        if e.get("DestChannel")
    ]
