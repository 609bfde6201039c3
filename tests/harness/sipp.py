"""Place real SIP calls at the Asterisk test bed with SIPp, and answer them as agents.

Every call is one SIPp process (``-m 1``) with its own working directory holding the
rendered scenario, the generated RTP capture (all key presses of the call in ONE pcap, see
:mod:`tests.harness.dtmf_pcap`), SIPp's message trace and its error log. The outcome (was the
call answered, who hung up, the Q.850 cause of the far end's BYE, timings) is read back
from the message trace. The directory is deleted when the call went as expected and kept
(its path is in the result and in ``describe()``) when it did not.

Caller numbers are the SIP From user: the test bed's ``callers`` endpoint identifies callers
by address and Asterisk's CALLERID(num) is the From user. Agents 80NN are SIPp UASs on
127.0.0.1:(5100 + NN), the static contacts of pjsip.conf.

Ports: each call's SIP and RTP ports are picked free from 20000-39999 (never 5060, never
Asterisk's RTP range 10000-10999, never the agents' 5101-5150), and reserved in this process
until the call ends, so concurrent calls do not collide.

Everything is asyncio: SIPp runs through ``asyncio.create_subprocess_exec`` with a timeout,
and the process is killed when the timeout passes or the awaiting task is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shutil
import socket
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Literal

from tests.harness.dtmf_pcap import write_dtmf_pcap

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "sipp"
SIPP_BINARY = os.environ.get("IVR_SIPP_BINARY", "sipp")
DEFAULT_TARGET = "127.0.0.1:5060"
LOCAL_IP = "127.0.0.1"
AGENT_FIRST, AGENT_LAST = 8001, 8050
AGENT_BASE_PORT = 5100  # agent 80NN answers on 5100 + NN

_PORT_RANGE = (20000, 39999)
_reserved: set[int] = set()
_reserved_lock = threading.Lock()


class SippError(Exception):
    """SIPp could not be started or did not start listening."""


# --- Ports -----------------------------------------------------------------------------------


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((LOCAL_IP, port))
        except OSError:
            return False
    return True


def reserve_ports(count: int = 1, *, even: bool = False) -> int:
    """Reserve ``count`` consecutive free UDP ports on the loopback; return the first.

    ``even``: the first port is even (an RTP port; SIPp also binds media port + 2).
    Release with :func:`release_ports`.
    """
    rng = random.SystemRandom()
    for _ in range(500):
        first = rng.randrange(_PORT_RANGE[0], _PORT_RANGE[1] - count)
        if even:
            first -= first % 2
        ports = range(first, first + count)
        with _reserved_lock:
            if any(p in _reserved for p in ports):
                continue
            if all(_bindable(p) for p in ports):
                _reserved.update(ports)
                return first
    raise SippError(f"no {count} free consecutive UDP ports in {_PORT_RANGE}")


def release_ports(first: int, count: int = 1) -> None:
    with _reserved_lock:
        _reserved.difference_update(range(first, first + count))


def agent_port(agent: str) -> int:
    """The SIP port agent 80NN answers on: 5100 + NN (8001 -> 5101 ... 8050 -> 5150)."""
    number = int(agent)
    if not AGENT_FIRST <= number <= AGENT_LAST:
        raise ValueError(f"agent {agent!r} is not one of {AGENT_FIRST}-{AGENT_LAST}")
    return AGENT_BASE_PORT + number - 8000


# --- Results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SipMessage:
    """One SIP message from SIPp's -trace_msg log."""

    time: float  # Unix time
    direction: Literal["sent", "received"]
    first_line: str
    headers: dict[str, str]  # first occurrence of each header, lower-case names

    @property
    def is_request(self) -> bool:
        return not self.first_line.startswith("SIP/2.0")

    @property
    def method(self) -> str:
        """The request method, or the CSeq method of a response."""
        if self.is_request:
            return self.first_line.split(" ", 1)[0]
        return self.headers.get("cseq", " ").split()[-1]

    @property
    def status(self) -> int | None:
        if self.is_request:
            return None
        return int(self.first_line.split()[1])

    def __str__(self) -> str:
        arrow = "->" if self.direction == "sent" else "<-"
        return f"{arrow} {self.first_line}"


_TRACE_SEPARATOR = re.compile(
    r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n"
    r"\S+ message (sent|received)[^\n]*\n\n",
    re.MULTILINE,
)


def parse_message_trace(text: str) -> list[SipMessage]:
    """Parse SIPp's -trace_msg log into messages, in order."""
    messages: list[SipMessage] = []
    matches = list(_TRACE_SEPARATOR.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end].replace("\r\n", "\n").strip("\n")
        if not body:
            continue
        lines = body.split("\n")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line.strip():
                break
            name, sep, value = line.partition(":")
            if sep:
                headers.setdefault(name.strip().lower(), value.strip())
        direction: Literal["sent", "received"] = "sent" if match.group(2) == "sent" else "received"
        messages.append(
            SipMessage(
                time=datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp(),
                direction=direction,
                first_line=lines[0].strip(),
                headers=headers,
            )
        )
    return messages


_Q850 = re.compile(r"Q\.850\s*;\s*cause\s*=\s*(\d+)", re.IGNORECASE)


@dataclass
class SippResult:
    """What happened on one SIPp call, from the side SIPp played."""

    role: Literal["caller", "agent"]
    caller: str  # the From user (for an agent: the number Asterisk presented)
    dialled: str  # the dialled number (for an agent: the agent's number)
    returncode: int | None  # SIPp's exit status; None when it was killed on timeout
    successful: bool
    failed_reason: str | None
    answered: bool = False
    final_status: int | None = None  # the final response to the INVITE
    far_hangup: bool = False  # the far end sent BYE (Asterisk hung up)
    we_hung_up: bool = False  # SIPp sent BYE
    cancelled: bool = False  # the INVITE was cancelled (by us or by the far end)
    hangup_cause: int | None = None  # Q.850 cause in the Reason header of the far end's BYE
    setup_time: float | None = None  # INVITE -> final response, seconds
    duration: float | None = None  # answer -> BYE, seconds
    messages: list[SipMessage] = field(default_factory=list)
    workdir: Path | None = None  # kept only when the call failed
    stdout_path: Path | None = None
    stderr_path: Path | None = None
    messages_path: Path | None = None
    errors_path: Path | None = None

    @property
    def received(self) -> list[str]:
        """First lines of the SIP messages received, in order."""
        return [m.first_line for m in self.messages if m.direction == "received"]

    @property
    def sent(self) -> list[str]:
        return [m.first_line for m in self.messages if m.direction == "sent"]

    def describe(self) -> str:
        """A multi-line account for assertion messages."""
        lines = [
            f"SIPp {self.role} {self.caller} -> {self.dialled}: "
            + ("OK" if self.successful else f"FAILED ({self.failed_reason})"),
            f"  rc={self.returncode} answered={self.answered} final={self.final_status} "
            f"far_hangup={self.far_hangup} we_hung_up={self.we_hung_up} "
            f"cancelled={self.cancelled} cause={self.hangup_cause} duration={self.duration}",
        ]
        lines += [f"  {m}" for m in self.messages]
        if self.workdir is not None:
            lines.append(f"  files kept in {self.workdir}")
            if self.errors_path is not None and self.errors_path.exists():
                errors = self.errors_path.read_text(errors="replace").strip().splitlines()
                lines += [f"  | {line}" for line in errors[-10:]]
            if self.stderr_path is not None and self.stderr_path.exists():
                stderr = self.stderr_path.read_text(errors="replace").strip().splitlines()
                lines += [f"  ! {line}" for line in stderr[-10:]]
        return "\n".join(lines)


# --- Running SIPp ---------------------------------------------------------------------------


@dataclass
class SippCall:
    """A call to place (role caller) or to answer (role agent), as SIPp will run it."""

    role: Literal["caller", "agent"]
    caller: str
    dialled: str
    keys: Sequence[tuple[float, str]] = ()
    hangup_after: float | None = None
    expect_far_hangup: bool = True
    expect_answer: bool = True
    max_duration: float = 60.0
    answer_timeout: float = 30.0
    answer_after: float = 0.5
    target: str = DEFAULT_TARGET
    sip_port: int | None = None  # None: pick a free one
    keep_files: bool = False

    @property
    def scenario(self) -> Path:
        return SCENARIO_DIR / ("uac.xml" if self.role == "caller" else "uas_agent.xml")

    def process_timeout(self) -> float:
        """How long SIPp may run before it is killed (its own timers should end it first)."""
        talk = self.hangup_after if self.hangup_after is not None else self.max_duration
        ring = self.answer_timeout if self.role == "caller" else self.max_duration
        return ring + talk + 15.0


@dataclass
class _Prepared:
    call: SippCall
    workdir: Path
    args: list[str]
    media_port: int
    sip_port: int
    own_sip_port: bool
    stdout_path: Path
    stderr_path: Path
    messages_path: Path
    errors_path: Path
    screen_path: Path


def _workdir_base() -> Path:
    base = Path(os.environ.get("IVR_SIPP_WORKDIR", Path(tempfile.gettempdir()) / "ivr-sipp"))
    base.mkdir(parents=True, exist_ok=True)
    return base


def _render_scenario(template: Path, target: Path, tokens: dict[str, str]) -> None:
    text = template.read_text(encoding="iso-8859-1")
    for name, value in tokens.items():
        text = text.replace(f"@@{name}@@", value)
    leftover = re.findall(r"@@[A-Z_]+@@", text)
    if leftover:
        raise SippError(f"{template}: tokens not replaced: {sorted(set(leftover))}")
    target.write_text(text, encoding="iso-8859-1")


def _ms(seconds: float) -> str:
    # SIPp treats a timeout of 0 as "no timeout": never render less than 1 ms.
    return str(max(1, round(seconds * 1000)))


def _prepare(call: SippCall) -> _Prepared:
    if shutil.which(SIPP_BINARY) is None:
        raise SippError(f"{SIPP_BINARY} not found: run asterisk/provision.sh (installs SIPp)")
    tag = f"{call.role}-{call.caller}-{call.dialled}-".replace("/", "_")
    workdir = Path(tempfile.mkdtemp(prefix=tag, dir=_workdir_base()))
    pcap = workdir / "rtp.pcap"
    write_dtmf_pcap(pcap, call.keys)
    scenario = workdir / call.scenario.name
    if call.role == "caller":
        bye_wait = call.hangup_after if call.hangup_after is not None else call.max_duration
        tokens = {"ANSWER_TIMEOUT_MS": _ms(call.answer_timeout), "BYE_WAIT_MS": _ms(bye_wait)}
    else:
        talk = call.hangup_after if call.hangup_after is not None else call.max_duration
        tokens = {"ANSWER_MS": _ms(call.answer_after), "BYE_WAIT_MS": _ms(talk)}
    _render_scenario(call.scenario, scenario, tokens)

    own_sip_port = call.sip_port is None
    sip_port = reserve_ports(1) if call.sip_port is None else call.sip_port
    try:
        media_port = reserve_ports(4, even=True)
    except BaseException:
        if own_sip_port:
            release_ports(sip_port)
        raise
    prepared = _Prepared(
        call=call,
        workdir=workdir,
        args=[],
        media_port=media_port,
        sip_port=sip_port,
        own_sip_port=own_sip_port,
        stdout_path=workdir / "stdout.log",
        stderr_path=workdir / "stderr.log",
        messages_path=workdir / "messages.log",
        errors_path=workdir / "errors.log",
        screen_path=workdir / "screen.log",
    )
    args = [SIPP_BINARY]
    if call.role == "caller":
        args += [call.target, "-key", "caller", call.caller, "-key", "dialled", call.dialled]
    else:
        args += ["-key", "agent", call.dialled]
    args += [
        "-sf", str(scenario),
        "-key", "pcap", str(pcap),
        "-i", LOCAL_IP,
        "-p", str(sip_port),
        "-mi", LOCAL_IP,
        "-mp", str(media_port),
        "-m", "1",
        "-aa",
        "-nostdin",
        "-trace_msg", "-message_file", str(prepared.messages_path),
        "-trace_err", "-error_file", str(prepared.errors_path),
        "-trace_screen", "-screen_file", str(prepared.screen_path),
        "-timeout", f"{round(call.process_timeout()) + 5}s",
        "-timeout_error",
    ]  # fmt: skip
    prepared.args = args
    return prepared


def _open_logs(prepared: _Prepared) -> tuple[IO[bytes], IO[bytes]]:
    return prepared.stdout_path.open("wb"), prepared.stderr_path.open("wb")


def _release(prepared: _Prepared) -> None:
    release_ports(prepared.media_port, 4)
    if prepared.own_sip_port:
        release_ports(prepared.sip_port)


def _evaluate(prepared: _Prepared, returncode: int | None, note: str | None) -> SippResult:
    call = prepared.call
    try:
        trace = prepared.messages_path.read_text(errors="replace")
    except OSError:
        trace = ""
    messages = parse_message_trace(trace)
    result = SippResult(
        role=call.role,
        caller=call.caller,
        dialled=call.dialled,
        returncode=returncode,
        successful=False,
        failed_reason=None,
        messages=messages,
    )
    inbound = "received" if call.role == "caller" else "sent"  # direction of INVITE responses
    invite = next((m for m in messages if m.is_request and m.method == "INVITE"), None)
    final = next(
        (
            m
            for m in messages
            if m.direction == inbound
            and not m.is_request
            and m.method == "INVITE"
            and (m.status or 0) >= 200
        ),
        None,
    )
    far_bye = next(
        (m for m in messages if m.direction == "received" and m.is_request and m.method == "BYE"),
        None,
    )
    our_bye = next(
        (m for m in messages if m.direction == "sent" and m.is_request and m.method == "BYE"),
        None,
    )
    result.final_status = final.status if final else None
    result.answered = final is not None and 200 <= (final.status or 0) < 300
    result.cancelled = any(m.is_request and m.method == "CANCEL" for m in messages)
    result.far_hangup = far_bye is not None
    result.we_hung_up = our_bye is not None
    if far_bye is not None:
        cause = _Q850.search(far_bye.headers.get("reason", ""))
        result.hangup_cause = int(cause.group(1)) if cause else None
    if invite is not None and final is not None:
        result.setup_time = round(final.time - invite.time, 3)
    ends = [m.time for m in (far_bye, our_bye) if m is not None]
    if result.answered and final is not None and ends:
        result.duration = round(min(ends) - final.time, 3)
    if call.role == "agent" and invite is not None:
        result.caller = _user_of(invite.headers.get("from", "")) or call.caller

    reason: str | None = note
    if reason is None and not call.expect_answer:
        if invite is None:
            reason = "no INVITE arrived" if call.role == "agent" else "no INVITE was sent"
        elif result.answered:
            reason = "answered, but the call was expected to end unanswered"
        elif final is None:
            reason = "no final response to the INVITE"
        elif returncode != 0:
            reason = f"sipp exited with status {returncode}"
        result.successful = reason is None
        result.failed_reason = reason
        return result
    if reason is None and invite is None:
        reason = "no INVITE arrived" if call.role == "agent" else "no INVITE was sent (see stderr)"
    if reason is None and not result.answered:
        if call.role == "caller" and result.cancelled:
            reason = f"not answered within {call.answer_timeout} s: cancelled"
        elif call.role == "agent" and result.cancelled:
            reason = "the call was cancelled before the agent answered"
        elif final is not None:
            reason = f"not answered: {final.first_line}"
        else:
            reason = "no final response to the INVITE"
    if reason is None and call.hangup_after is None:
        if call.expect_far_hangup and not result.far_hangup:
            reason = f"the far end did not hang up within {call.max_duration} s"
        elif not call.expect_far_hangup and result.far_hangup:
            reason = "the far end hung up, but it was expected to stay on the line"
    if reason is None and not (result.far_hangup or result.we_hung_up):
        reason = "the call was answered but never hung up"
    if reason is None and returncode != 0:
        reason = f"sipp exited with status {returncode}"
    result.successful = reason is None
    result.failed_reason = reason
    return result


def _user_of(header: str) -> str | None:
    match = re.search(r"sips?:([^@;>]+)@", header)
    return match.group(1) if match else None


def _finish(prepared: _Prepared, result: SippResult) -> SippResult:
    _release(prepared)
    if result.successful and not prepared.call.keep_files:
        shutil.rmtree(prepared.workdir, ignore_errors=True)
    else:
        result.workdir = prepared.workdir
        result.stdout_path = prepared.stdout_path
        result.stderr_path = prepared.stderr_path
        result.messages_path = prepared.messages_path
        result.errors_path = prepared.errors_path
    return result


async def _terminate(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 2)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


async def _spawn(prepared: _Prepared) -> asyncio.subprocess.Process:
    stdout, stderr = _open_logs(prepared)
    try:
        return await asyncio.create_subprocess_exec(
            *prepared.args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            cwd=prepared.workdir,
            start_new_session=True,
        )
    finally:
        stdout.close()
        stderr.close()


async def _await_process(prepared: _Prepared, proc: asyncio.subprocess.Process) -> SippResult:
    timeout = prepared.call.process_timeout()
    note: str | None = None
    try:
        returncode: int | None = await asyncio.wait_for(proc.wait(), timeout)
    except TimeoutError:
        await _terminate(proc)
        returncode = None
        note = f"sipp did not finish within {timeout:.0f} s: killed"
    except BaseException:  # cancelled: never leave a SIPp behind
        await asyncio.shield(_terminate(proc))
        _release(prepared)
        raise
    return _finish(prepared, _evaluate(prepared, returncode, note))


async def run_call(call: SippCall) -> SippResult:
    """Run one prepared call description to its end."""
    prepared = _prepare(call)
    try:
        proc = await _spawn(prepared)
    except BaseException:
        _release(prepared)
        raise
    return await _await_process(prepared, proc)


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
        prepared: _Prepared,
        proc: asyncio.subprocess.Process,
    ) -> None:
        self.agent = prepared.call.dialled
        self.port = prepared.sip_port
        self._prepared = prepared
        self._proc = proc
        self._task: asyncio.Task[SippResult] = asyncio.ensure_future(_await_process(prepared, proc))

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
            await _terminate(self._proc)
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
    return not _bindable(port)


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
    port = agent_port(agent)
    if _udp_port_taken(port):
        raise SippError(f"UDP 127.0.0.1:{port} (agent {agent}) is already in use")
    call = SippCall(
        role="agent",
        caller="",
        dialled=agent,
        keys=tuple(keys),
        hangup_after=talk_for,
        expect_far_hangup=talk_for is None,
        expect_answer=expect_answer,
        max_duration=max_duration,
        answer_after=answer_after,
        sip_port=port,
        keep_files=keep_files,
    )
    prepared = _prepare(call)
    try:
        proc = await _spawn(prepared)
    except BaseException:
        _release(prepared)
        raise
    handle = AgentHandle(prepared, proc)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + listen_timeout
    while not _udp_port_taken(port):
        if not handle.running or loop.time() > deadline:
            result = await handle.stop()
            raise SippError(
                f"SIPp for agent {agent} did not listen on {port}:\n{result.describe()}"
            )
        await asyncio.sleep(0.02)
    return handle
