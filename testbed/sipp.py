"""Place real SIP calls at the Asterisk test bed with SIPp, and answer them as agents.

Every call is one SIPp process (``-m 1``) with its own working directory holding the
rendered scenario, the generated RTP capture (all key presses of the call in ONE pcap, see
:mod:`testbed.dtmf_pcap`), SIPp's message trace and its error log. The outcome (was the
call answered, who hung up, the Q.850 cause of the far end's BYE, timings) is read back
from the message trace. The directory is deleted when the call went as expected and kept
(its path is in the result and in ``describe()``) when it did not.

Caller numbers are the SIP From user: the test bed's ``callers`` endpoint identifies callers
by address and Asterisk's CALLERID(num) is the From user. Agents 80NN are SIPp UASs on
127.0.0.1:(5100 + NN), the static contacts of pjsip.conf; the customer a callback dials
(``PJSIP/<number>@pstn``) is a SIPp UAS on 127.0.0.1:5199 (:func:`answer_as_customer`).

The parts live in their own modules, re-exported here: :mod:`testbed.ports` (free
and agent ports), :mod:`testbed.sipp_call` (the call description and its files),
:mod:`testbed.sipp_process` (running SIPp under asyncio, killed on timeout or
cancellation), :mod:`testbed.sip_trace` (the message trace) and
:mod:`testbed.sipp_result` (what happened on the call).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from testbed.ports import (
    AGENT_BASE_PORT,
    AGENT_FIRST,
    AGENT_LAST,
    LOCAL_IP,
    agent_port,
    release_ports,
    reserve_ports,
    udp_port_listening,
)
from testbed.sip_trace import SipMessage, parse_message_trace
from testbed.sipp_call import (
    DEFAULT_TARGET,
    SCENARIO_DIR,
    SIPP_BINARY,
    PreparedCall,
    SippCall,
    prepare_call,
    release_call_ports,
)
from testbed.sipp_error import SippError
from testbed.sipp_process import await_sipp, spawn_sipp, terminate_sipp
from testbed.sipp_result import SippResult

__all__ = [
    "AGENT_BASE_PORT",
    "AGENT_FIRST",
    "AGENT_LAST",
    "DEFAULT_TARGET",
    "LOCAL_IP",
    "PSTN_PORT",
    "SCENARIO_DIR",
    "SIPP_BINARY",
    "AgentHandle",
    "SipMessage",
    "SippCall",
    "SippError",
    "SippResult",
    "agent_port",
    "answer_as_agent",
    "answer_as_customer",
    "parse_message_trace",
    "place_call",
    "release_ports",
    "reserve_ports",
    "run_call",
]


async def run_call(call: SippCall) -> SippResult:
    """Run one prepared call description to its end."""
    prepared = prepare_call(call)
    try:
        proc = await spawn_sipp(prepared)
    except BaseException:
        release_call_ports(prepared)
        raise
    return await await_sipp(prepared, proc)


async def place_call(
    caller: str,
    dialled: str,
    *,
    keys: Sequence[tuple[float, str]] = (),
    hangup_after: float | None = None,
    expect_far_hangup: bool = True,
    expect_answer: bool = True,
    max_duration: float = 60,
    answer_timeout: float = 30,
    target: str = DEFAULT_TARGET,
    keep_files: bool = False,
) -> SippResult:
    """Call ``dialled`` from ``caller`` (the SIP From user) and return what happened.

    ``keys``: (seconds after the answer, key) pairs sent as RFC 4733 events (one pcap).
    ``hangup_after``: the caller hangs up (BYE) this many seconds after the answer, unless
    the far end hangs up first (both are reported; either is a success).
    Without ``hangup_after`` the caller stays on the line for up to ``max_duration`` seconds:
    with ``expect_far_hangup`` the far end must hang up in that time (otherwise the caller
    hangs up and the call fails); without it the far end must NOT hang up, and the caller
    hangs up at ``max_duration``.
    ``answer_timeout``: seconds to wait for the answer before cancelling the call.
    ``expect_answer=False``: the call must end unanswered (rejected with a final error
    response, or cancelled after ``answer_timeout``) for the result to be successful.
    The returned result says who hung up (``far_hangup``/``we_hung_up``), the far end's
    Q.850 cause, the final response, timings and the SIP messages; see :class:`SippResult`.
    """
    return await run_call(
        SippCall(
            role="caller",
            caller=caller,
            dialled=dialled,
            keys=tuple(keys),
            hangup_after=hangup_after,
            expect_far_hangup=expect_far_hangup,
            expect_answer=expect_answer,
            max_duration=max_duration,
            answer_timeout=answer_timeout,
            target=target,
            keep_files=keep_files,
        )
    )


class AgentHandle:
    """A SIPp agent phone waiting for (or in) its call. ``await handle.result()``."""

    def __init__(
        self,
        prepared: PreparedCall,
        proc: asyncio.subprocess.Process,
    ) -> None:
        self.agent = prepared.call.dialled
        self.port = prepared.sip_port
        self._prepared = prepared
        self._proc = proc
        self._task: asyncio.Task[SippResult] = asyncio.ensure_future(await_sipp(prepared, proc))

    async def result(self, timeout: float | None = None) -> SippResult:
        """Wait for the agent's call to end (at most ``timeout`` seconds, then stop it)."""
        if timeout is None:
            return await asyncio.shield(self._task)
        try:
            return await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            return await self.stop()

    async def stop(self) -> SippResult:
        """Stop the agent now (kills SIPp if it is still running) and return its result."""
        if not self._task.done():
            await terminate_sipp(self._proc)
        return await self._task

    @property
    def running(self) -> bool:
        return not self._task.done()

    async def __aenter__(self) -> AgentHandle:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.running:
            await self.stop()


def _udp_port_taken(port: int) -> bool:
    return udp_port_listening(port)


async def answer_as_agent(
    agent: str,
    *,
    answer_after: float = 0.5,
    talk_for: float | None = None,
    keys: Sequence[tuple[float, str]] = (),
    expect_answer: bool = True,
    max_duration: float = 60,
    keep_files: bool = False,
    listen_timeout: float = 5,
) -> AgentHandle:
    """Start agent ``agent``'s phone: a SIPp UAS on 127.0.0.1:(5100 + NN).

    It rings for ``answer_after`` seconds, answers (a CANCEL in that time ends the call),
    plays ``keys`` (seconds after the answer, key), then hangs up after ``talk_for`` seconds
    or, without ``talk_for``, waits up to ``max_duration`` seconds for the far end's BYE
    (and then hangs up itself: a failure). Returns once SIPp listens on the port; the call's
    outcome is ``await handle.result()``. Waits at most ``max_duration`` for the INVITE.
    ``expect_answer=False``: the call must be cancelled while ringing (ring-no-answer);
    give a long ``answer_after`` then.
    """
    return await _answer_on(
        agent_port(agent),
        agent,
        f"agent {agent}",
        answer_after=answer_after,
        talk_for=talk_for,
        keys=keys,
        expect_answer=expect_answer,
        max_duration=max_duration,
        keep_files=keep_files,
        listen_timeout=listen_timeout,
    )


PSTN_PORT = 5199  # the test bed's "pstn" endpoint sends its INVITEs to 127.0.0.1:5199


async def answer_as_customer(
    number: str,
    *,
    port: int = PSTN_PORT,
    answer_after: float = 0.5,
    talk_for: float | None = None,
    keys: Sequence[tuple[float, str]] = (),
    expect_answer: bool = True,
    max_duration: float = 60,
    keep_files: bool = False,
    listen_timeout: float = 5,
) -> AgentHandle:
    """Start a customer's phone on the public network side: the agent's phone scenario
    (a SIPp UAS) on 127.0.0.1:``port``, where the test bed's ``pstn`` endpoint sends the
    INVITEs of ``Dial(PJSIP/<number>@pstn)`` (callbacks). ``number`` is its Contact user;
    the INVITE it got is in ``(await handle.result()).messages``. Otherwise exactly as
    :func:`answer_as_agent`."""
    return await _answer_on(
        port,
        number,
        f"customer {number}",
        answer_after=answer_after,
        talk_for=talk_for,
        keys=keys,
        expect_answer=expect_answer,
        max_duration=max_duration,
        keep_files=keep_files,
        listen_timeout=listen_timeout,
    )


async def _answer_on(
    port: int,
    user: str,
    who: str,
    *,
    answer_after: float,
    talk_for: float | None,
    keys: Sequence[tuple[float, str]],
    expect_answer: bool,
    max_duration: float,
    keep_files: bool,
    listen_timeout: float,
) -> AgentHandle:
    """A SIPp UAS (uas_agent.xml) on 127.0.0.1:``port`` answering as ``user``."""
    if _udp_port_taken(port):
        raise SippError(f"UDP 127.0.0.1:{port} ({who}) is already in use")
    call = SippCall(
        role="agent",
        caller="",
        dialled=user,
        keys=tuple(keys),
        hangup_after=talk_for,
        expect_far_hangup=talk_for is None,
        expect_answer=expect_answer,
        max_duration=max_duration,
        answer_after=answer_after,
        sip_port=port,
        keep_files=keep_files,
    )
    prepared = prepare_call(call)
    try:
        proc = await spawn_sipp(prepared)
    except BaseException:
        release_call_ports(prepared)
        raise
    handle = AgentHandle(prepared, proc)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + listen_timeout
    try:
        while not _udp_port_taken(port):
            if not handle.running or loop.time() > deadline:
                result = await handle.stop()
                raise SippError(f"SIPp for {who} did not listen on {port}:\n{result.describe()}")
            await asyncio.sleep(0.02)
    except BaseException:  # cancelled while waiting: no handle to stop it, so stop it here
        if handle.running:
            await asyncio.shield(handle.stop())
        raise
    return handle
