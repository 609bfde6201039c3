"""What one SIPp process is to do, and getting it ready to run.

A :class:`SippCall` describes a call to place (role caller) or to answer (role agent).
:func:`prepare_call` gives it its own working directory holding the rendered scenario, the
generated RTP capture (all key presses of the call in ONE pcap, see
:mod:`testbed.dtmf_pcap`) and the paths of SIPp's logs, reserves its ports and builds
SIPp's command line.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from testbed.dtmf_pcap import write_dtmf_pcap
from testbed.ports import LOCAL_IP, release_ports, reserve_ports
from testbed.sipp_error import SippError

SCENARIO_DIR = Path(__file__).resolve().parent / "sipp"
SIPP_BINARY = os.environ.get("IVR_SIPP_BINARY", "sipp")
DEFAULT_TARGET = "127.0.0.1:5060"


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
class PreparedCall:
    """A call ready to run: its working directory, reserved ports and SIPp command line."""

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


def prepare_call(call: SippCall) -> PreparedCall:
    """Render the call's files and reserve its ports; release with :func:`release_call_ports`."""
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
    prepared = PreparedCall(
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


def release_call_ports(prepared: PreparedCall) -> None:
    """Give back the ports :func:`prepare_call` reserved (not an agent's fixed SIP port)."""
    release_ports(prepared.media_port, 4)
    if prepared.own_sip_port:
        release_ports(prepared.sip_port)
