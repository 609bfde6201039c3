"""What happened on one SIPp call, read back from SIPp's message trace.

The outcome (was the call answered, who hung up, the Q.850 cause of the far end's BYE,
timings) comes from the SIP messages of the call, and is judged against what the
:class:`~testbed.sipp_call.SippCall` expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from testbed.sip_trace import SipMessage, parse_message_trace
from testbed.sipp_call import PreparedCall

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


def evaluate_run(prepared: PreparedCall, returncode: int | None, note: str | None) -> SippResult:
    """Read the call's message trace and judge it; ``note``: a failure already known."""
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
