"""An in-process fake Asterisk for the FastAGI tests, and an event-loop ticker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

from ivr_engine.settings import AgiSettings

HEADERS: dict[str, str] = {
    "agi_network": "yes",
    "agi_network_script": "ivr/main",
    "agi_request": "agi://127.0.0.1:4573/ivr/main",
    "agi_channel": "PJSIP/alice-00000001",
    "agi_language": "en",
    "agi_type": "PJSIP",
    "agi_uniqueid": "1700000000.1",
    "agi_callerid": "5551234",
    "agi_calleridname": "Alice",
    "agi_dnid": "100",
    "agi_context": "ivr",
    "agi_extension": "100",
    "agi_priority": "2",
    "agi_accountcode": "",
    "agi_arg_1": "fr",
    "agi_arg_2": "two words",
}

Responder = Callable[[str], list[str]]


def header_block(headers: Mapping[str, str] = HEADERS) -> bytes:
    """The header block as Asterisk writes it: ``agi_x: value`` lines, then a blank line."""
    return "".join(f"{key}: {value}\n" for key, value in headers.items()).encode() + b"\n"


def make_settings(**overrides: float) -> AgiSettings:
    values: dict[str, float] = {
        "port": 0,
        "command_timeout": 1.0,
        "header_timeout": 0.3,
        "max_header_bytes": 2048,
        "shutdown_grace": 1.0,
    }
    values.update(overrides)
    return AgiSettings.model_validate({"host": "127.0.0.1", **values})


def succeed(command: str) -> list[str]:
    """Asterisk on a live channel where every command works and nobody presses a key."""
    if command.startswith("GET VARIABLE"):
        return ["200 result=1 (value)"]
    if command.startswith(("ANSWER", "STREAM FILE", "EXEC", "SET MUSIC")):
        return ["200 result=0 endpos=0" if command.startswith("STREAM") else "200 result=0"]
    return ["200 result=1"]


class AsteriskPeer:
    """The Asterisk end of one FastAGI connection, driven step by step by a test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> AsteriskPeer:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, *lines: str) -> None:
        await self.send_raw("".join(line + "\n" for line in lines).encode())

    async def command(self, timeout: float = 2.0) -> str | None:
        """The next command line the engine wrote, or None when it closed the connection."""
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        return line.decode().removesuffix("\n") if line else None

    async def assert_silent(self, wait: float = 0.05) -> None:
        """Assert the engine writes nothing more (for ``wait`` seconds)."""
        with contextlib.suppress(TimeoutError):
            line = await asyncio.wait_for(self.reader.readline(), wait)
            raise AssertionError(f"the engine wrote {line!r}")

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def fake_call(
    port: int, responder: Responder = succeed, headers: Mapping[str, str] = HEADERS
) -> list[str]:
    """Place one call: send the headers, answer each command, return the commands seen."""
    peer = await AsteriskPeer.connect(port)
    await peer.send_raw(header_block(headers))
    commands: list[str] = []
    try:
        while (command := await peer.command()) is not None:
            commands.append(command)
            await peer.send(*responder(command))
    finally:
        await peer.close()
    return commands


class Ticker:
    """Measures the event loop's responsiveness: the worst lateness of a 10 ms sleep."""

    def __init__(self, period: float = 0.01) -> None:
        self.period = period
        self.max_gap = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.period)
            self.max_gap = max(self.max_gap, loop.time() - before - self.period)
            self.ticks += 1


async def until_closed(peer: AsteriskPeer, timeout: float = 2.0) -> list[bytes]:
    """Wait for the engine to close the connection; return whatever it wrote first."""
    received: list[bytes] = []
    with contextlib.suppress(ConnectionError):
        async with asyncio.timeout(timeout):
            while line := await peer.reader.readline():
                received.append(line)
    await peer.close()
    return received


async def eventually(predicate: Callable[[], bool], timeout: float = 1.0) -> None:
    """Wait until ``predicate()`` holds (for state another task is about to update)."""
    for _ in range(int(timeout / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"still not true after {timeout} s")
