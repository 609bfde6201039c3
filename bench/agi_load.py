"""A FastAGI load generator that plays Asterisk, for benchmark 2 (a script, not a test).

    .venv/bin/python -m bench.agi_load --port 4573 --sessions 5000 --concurrency 500 \\
        --warmup 500 --out DIR [--think-ms 0] [--cpu 1]

It keeps ``--concurrency`` calls open at once. Each call connects, sends the AGI environment
block Asterisk 22 sends (caller, dialled number, channel, unique id...), then answers every
command the server writes, in the order of :data:`SCRIPT`: ``200 result=0``, a key
(``result=49``), the digits of a password, a variable's value. A command out of order is
a failed call. ``--think-ms`` makes each answer wait a random time (exponential, that
mean) the way a prompt being played does; 0 answers at once (a closed loop).

Recorded, for the measured calls only (the ``--warmup`` calls before them are not):

- turnaround: from writing a reply to reading the next command, i.e. the server's time to
  read the reply, run its handler and write the next command (plus the loopback);
- setup: from connecting to reading the first command (accept, header block, routing).

The samples (seconds, float64) go to ``DIR/turnaround.f64`` and ``DIR/setup.f64``; one JSON
line on stdout gives the counts and the time from the first measured call's start to the
last one's (calls started a second: with calls always open, the rate they end at). Run it in its own
process (the benchmark does), so that it has its own core and event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROUTE = "hotline"

# The call the handlers make (a balance query on 10086): the command each server writes,
# and what Asterisk answers. Both servers in benchmark 2 send exactly these lines.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("ANSWER", "200 result=0"),
    ('SET VARIABLE "CHANNEL(language)" "zh"', "200 result=1"),
    ('GET VARIABLE "CALLERID(name)"', "200 result=1 (Zhang San)"),
    ('STREAM FILE "hotline/welcome" "0123456789*#" 0', "200 result=0 endpos=16000"),
    ('STREAM FILE "hotline/main-menu" "0123456789*#" 0', "200 result=49 endpos=8160"),
    ('GET DATA "hotline/enter-password" 5000 6', "200 result=123456"),
    ('SAY NUMBER 8650 "0123456789*#"', "200 result=0"),
    ('EXEC "Playback" "hotline/goodbye"', "200 result=0"),
    ('SET VARIABLE "IVR_RESULT" "completed"', "200 result=1"),
    ("HANGUP", "200 result=1"),
)
COMMANDS = len(SCRIPT)
_EXPECTED = tuple(command.encode() for command, _ in SCRIPT)
_REPLIES = tuple(reply.encode() + b"\n" for _, reply in SCRIPT)


def header_block(call: int) -> bytes:
    """The AGI environment Asterisk 22 sends for a call to 10086 from a mobile number."""
    caller = f"139{call % 100_000_000:08d}"
    unique = f"1767225600.{call}"
    headers = {
        "agi_network": "yes",
        "agi_network_script": ROUTE,
        "agi_request": f"agi://127.0.0.1:4573/{ROUTE}",
        "agi_channel": f"PJSIP/callers-{call:08x}",
        "agi_language": "en",
        "agi_type": "PJSIP",
        "agi_uniqueid": unique,
        "agi_version": "22.10.1",
        "agi_callerid": caller,
        "agi_calleridname": caller,
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": "10086",
        "agi_rdnis": "unknown",
        "agi_context": "hotline",
        "agi_extension": "10086",
        "agi_priority": "3",
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": str(140_000_000_000_000 + call),
    }
    return "".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n"


@dataclass
class Recorder:
    """Samples and counts of the measured calls."""

    turnaround: array[float] = field(default_factory=lambda: array("d"))
    setup: array[float] = field(default_factory=lambda: array("d"))
    calls: int = 0  # every call placed, measured or not
    completed: int = 0  # measured calls that went through the whole script
    failed: int = 0  # calls (measured or not) that did not
    problems: list[str] = field(default_factory=list)
    first_start: float = 0.0
    last_start: float = 0.0

    def problem(self, text: str) -> None:
        self.failed += 1
        if len(self.problems) < 5:
            self.problems.append(text)


class AsteriskCall(asyncio.Protocol):
    """The Asterisk end of one FastAGI connection, answering :data:`SCRIPT`."""

    def __init__(
        self, call: int, recorder: Recorder, think: Sequence[float], measured: bool
    ) -> None:
        self.call = call
        self.recorder = recorder
        self.think = think  # seconds to wait before each reply (empty: none)
        self.measured = measured
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.step = 0
        self.sent = 0.0
        self.aborted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(header_block(self.call))
        self.sent = time.perf_counter()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buffer = self.buffer + data
        while (end := buffer.find(b"\n")) >= 0:
            line, buffer = buffer[:end], buffer[end + 1 :]
            self._command(line, now)
        self.buffer = buffer

    def _command(self, line: bytes, now: float) -> None:
        step, recorder = self.step, self.recorder
        if step >= COMMANDS or line != _EXPECTED[step]:
            recorder.problem(f"call {self.call} step {step}: unexpected {line[:60]!r}")
            self._abort()
            return
        if self.measured:
            (recorder.setup if step == 0 else recorder.turnaround).append(now - self.sent)
        self.step = step + 1
        if self.think:
            asyncio.get_running_loop().call_later(self.think[step], self._reply, step)
        else:
            self._reply(step)

    def _reply(self, step: int) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_REPLIES[step])
            self.sent = time.perf_counter()

    def _abort(self) -> None:
        self.aborted = True
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        ok = not self.aborted and exc is None and self.step == COMMANDS
        if not ok and not self.aborted:
            self.recorder.problem(f"call {self.call} closed after {self.step} commands: {exc}")
        if not self.done.done():
            self.done.set_result(ok)


async def place_calls(
    port: int,
    *,
    measured: int,
    concurrency: int,
    warmup: int,
    think_ms: float,
    seed: int,
) -> Recorder:
    """Keep ``concurrency`` calls open until ``measured`` calls after the first ``warmup``
    ones have ended; the calls placed meanwhile keep the load up to the end."""
    loop = asyncio.get_running_loop()
    recorder = Recorder()
    rng = random.Random(seed)
    mean = think_ms / 1000
    first, last = warmup, warmup + measured
    ended = 0  # measured calls ended, well or not

    async def caller(lane: int) -> None:
        nonlocal ended
        if mean > 0:  # spread the first calls over one call's length, as live traffic is
            await asyncio.sleep(lane / concurrency * mean * COMMANDS)
        while ended < measured:
            call = recorder.calls
            recorder.calls += 1
            is_measured = first <= call < last
            think = [rng.expovariate(1 / mean) for _ in range(COMMANDS)] if mean > 0 else []
            started = time.perf_counter()
            if call == first:
                recorder.first_start = started
            elif call == last - 1:
                recorder.last_start = started
            try:
                _, protocol = await loop.create_connection(
                    lambda: AsteriskCall(call, recorder, think, is_measured),  # noqa: B023
                    "127.0.0.1",
                    port,
                )
                ok = await protocol.done
            except OSError as exc:
                recorder.problem(f"call {call}: connect failed: {exc}")
                ok = False
            if is_measured:
                ended += 1
                recorder.completed += ok

    async with asyncio.TaskGroup() as group:
        for lane in range(concurrency):
            group.create_task(caller(lane))
    return recorder


async def generate(args: argparse.Namespace) -> dict[str, object]:
    cpu = time.process_time()
    async with asyncio.timeout(args.timeout):
        recorder = await place_calls(
            args.port,
            measured=args.sessions,
            concurrency=args.concurrency,
            warmup=args.warmup,
            think_ms=args.think_ms,
            seed=args.seed,
        )
    cpu = time.process_time() - cpu
    out = Path(args.out)
    with (out / "turnaround.f64").open("wb") as f:
        recorder.turnaround.tofile(f)
    with (out / "setup.f64").open("wb") as f:
        recorder.setup.tofile(f)
    return {
        "calls": recorder.calls,
        "completed": recorder.completed,
        "failed": recorder.failed,
        "problems": recorder.problems,
        "elapsed": recorder.last_start - recorder.first_start,
        "cpu": cpu,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.agi_load", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sessions", type=int, required=True, help="measured calls")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=0, help="calls before measuring")
    parser.add_argument("--think-ms", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds at most")
    parser.add_argument("--seed", type=int, default=10086)
    parser.add_argument("--cpu", type=int, default=None, help="run on this CPU only")
    parser.add_argument("--out", required=True, help="folder for the sample files")
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    print(json.dumps(asyncio.run(generate(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
