"""A fake Asterisk manager interface that blasts call events, for benchmark 6 (a script,
not a test).

    .venv/bin/python -m bench.ami_blast [--cpu 1] [--secret S]

It listens on a free port of 127.0.0.1 and prints ``PORT <n>`` on stdout, then serves one
client at a time: the banner, ``Login`` (the secret must match), ``Filter`` and ``Ping``
like Asterisk 22. The action ``BenchBlast`` with ``Count: N`` (and ``Rate: R`` events a
second, 0 for as fast as the socket takes them) is answered ``Success``, then N events
are written: the events of one call after another (Newchannel, Newexten,
DeviceStateChange, AGIExecStart, Hangup, 60 to a call) with Asterisk 22's headers. Every
fifth call's caller has a Chinese name, so multibyte characters fall across TCP chunks.
``Timestamp`` carries ``time.monotonic()`` (CLOCK_MONOTONIC, the same clock in every
process of the machine) at the moment the event is written, for the reader to measure how
long the event took to reach its handler. Actions keep being answered while it blasts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Iterator

CHINESE_NAME = "张伟"  # the caller name of every fifth call
EVENTS_PER_CALL = 60
BATCH = 64  # events written at once when blasting as fast as possible


def _fields(items: dict[str, str]) -> str:
    return "".join(f"{key}: {value}\r\n" for key, value in items.items())


def _channel(
    call: int, caller: str, name: str, state: tuple[str, str], exten: str
) -> dict[str, str]:
    unique = f"1767225600.{call}"
    return {
        "Channel": f"PJSIP/callers-{call:08x}",
        "ChannelState": state[0],
        "ChannelStateDesc": state[1],
        "CallerIDNum": caller,
        "CallerIDName": name,
        "ConnectedLineNum": "<unknown>",
        "ConnectedLineName": "<unknown>",
        "Language": "zh",
        "AccountCode": "",
        "Context": "hotline",
        "Exten": exten,
        "Priority": "1",
        "Uniqueid": unique,
        "Linkedid": unique,
    }


def call_events(call: int) -> list[tuple[str, str]]:
    """The 60 events of one call as (name, text after the Timestamp line)."""
    caller = f"139{call % 100_000_000:08d}"
    name = CHINESE_NAME if call % 5 == 0 else caller
    down, up = ("0", "Down"), ("6", "Up")
    device = f"PJSIP/callers-{call % 50:02d}"
    events: list[tuple[str, dict[str, str]]] = [
        ("Newchannel", _channel(call, caller, name, down, "10086")),
        ("DeviceStateChange", {"Device": device, "State": "INUSE"}),
    ]
    for priority in range(1, 24):
        fields = _channel(call, caller, name, up, "10086")
        fields["Priority"] = str(priority)
        fields["Extension"] = "10086"
        fields["Application"] = "AGI" if priority == 3 else "Set"
        fields["AppData"] = (
            "agi://127.0.0.1:4573/hotline" if priority == 3 else f"IVR_STEP={priority}"
        )
        events.append(("Newexten", fields))
    for n in range(33):
        fields = _channel(call, caller, name, up, "10086")
        fields["Command"] = f'STREAM FILE "hotline/prompt-{n}" "0123456789*#" 0'
        fields["CommandId"] = str(1_000_000 + call * 40 + n)
        events.append(("AGIExecStart", fields))
    events.append(("DeviceStateChange", {"Device": device, "State": "NOT_INUSE"}))
    hangup = _channel(call, caller, name, up, "10086")
    hangup["Cause"] = "16"
    hangup["Cause-txt"] = "Normal Clearing"
    events.append(("Hangup", hangup))
    assert len(events) == EVENTS_PER_CALL
    return [(event, _fields(fields)) for event, fields in events]


CYCLE_CALLS = 50  # calls whose events are rendered once and then sent over and over


def event_stream() -> Iterator[tuple[str, str]]:
    """Events without end: (text up to ``Timestamp: ``, text after the stamp), to be
    stamped as they are written. One round of :data:`CYCLE_CALLS` calls is rendered once,
    then repeated."""
    rendered = [
        (
            f"Event: {name}\r\nPrivilege: "
            f"{'system' if name == 'DeviceStateChange' else 'call'},all\r\nTimestamp: ",
            f"\r\n{body}\r\n",
        )
        for call in range(CYCLE_CALLS)
        for name, body in call_events(call)
    ]
    while True:
        yield from rendered


class Blaster:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.blasts: set[asyncio.Task[None]] = set()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                block = await reader.readuntil(b"\r\n\r\n")
                action = dict(
                    line.split(": ", 1) for line in block.decode().split("\r\n") if ": " in line
                )
                self._answer(action, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for task in list(self.blasts):
                task.cancel()
            await asyncio.gather(*self.blasts, return_exceptions=True)
            writer.close()

    def _answer(self, action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        name = action.get("Action", "").lower()
        action_id = action.get("ActionID", "")
        reply = {"Response": "Success", "ActionID": action_id}
        if name == "login":
            if action.get("Secret") != self.secret:
                reply = {"Response": "Error", "ActionID": action_id}
                reply["Message"] = "Authentication failed"
            else:
                reply["Message"] = "Authentication accepted"
        elif name == "ping":
            reply["Ping"] = "Pong"
            reply["Timestamp"] = f"{time.time():.6f}"
        elif name == "benchblast":
            count = int(action.get("Count", "0"))
            rate = float(action.get("Rate", "0"))
            reply["Message"] = f"Blasting {count} events"
            writer.write((_fields(reply) + "\r\n").encode())
            task = asyncio.create_task(self._blast(writer, count, rate))
            self.blasts.add(task)
            task.add_done_callback(self.blasts.discard)
            return
        writer.write((_fields(reply) + "\r\n").encode())

    async def _blast(self, writer: asyncio.StreamWriter, count: int, rate: float) -> None:
        events = event_stream()
        sent = 0
        started = time.monotonic()
        while sent < count:
            if rate > 0:
                await asyncio.sleep(0.001)
                due = min(count, int((time.monotonic() - started) * rate)) - sent
                if due <= 0:
                    continue
            else:
                due = min(BATCH, count - sent)
            stamp = f"{time.monotonic():.6f}"
            chunk = "".join(head + stamp + tail for head, tail in _take(events, due))
            writer.write(chunk.encode())
            sent += due
            await writer.drain()


def _take(events: Iterator[tuple[str, str]], count: int) -> Iterator[tuple[str, str]]:
    for _ in range(count):
        yield next(events)


async def main_async(secret: str) -> None:
    blaster = Blaster(secret)
    server = await asyncio.start_server(blaster.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed: asyncio.Future[None] = loop.create_future()

    def readable() -> None:  # the benchmark ends this process by closing its stdin
        if not stdin_closed.done():
            stdin_closed.set_result(None)

    loop.add_reader(sys.stdin.fileno(), readable)
    with contextlib.suppress(asyncio.CancelledError):
        await stdin_closed
    loop.remove_reader(sys.stdin.fileno())
    server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ami_blast", description=__doc__)
    parser.add_argument("--secret", default="bench")
    parser.add_argument("--cpu", type=int, default=None, help="run on this CPU only")
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    asyncio.run(main_async(args.secret))
    return 0


if __name__ == "__main__":
    sys.exit(main())
