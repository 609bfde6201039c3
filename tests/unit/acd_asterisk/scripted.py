"""A real ACD on a temporary SQLite file, and a scripted Asterisk for one FastAGI session.

``running_acd`` migrates a fresh database, writes the ACD configuration to it and yields an
:class:`~acd.service.acd.Acd` on a :class:`FakeClock` (its dispatcher is not started: tests
run passes themselves, or start it). ``agi_session`` wires a real
:class:`~ivr_engine.agi.session.AgiSession` to a :class:`ScriptedAsterisk` over a socket
pair: the peer records every command, answers it, and calls the test's hooks where Asterisk
would wait (``WAIT FOR DIGIT``: the clock moves on by the wait) or dial (``EXEC Dial``: the
hook says how the Dial ended).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from acd.agents import AgentStatus
from acd.config import AcdConfig, parse_config
from acd.service.acd import Acd
from acd.store.agent_rows import load_agent
from acd.store.call_rows import CallRecord, load_call
from acd.store.sync import sync_config
from acd.store.tables import QueueLogRow
from ivr_engine.agi.session import AgiSession
from ivr_engine.db_schema import upgrade
from tests.unit.agi.peer import HEADERS

START = 1_790_000_000.0
DEAD = "511 Command Not Permitted on a dead channel or intercept routine"
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')

BASE_CONFIG: dict[str, Any] = {
    "version": 1,
    "defaults": {"wrap_up_s": 30, "ring_timeout_s": 12, "announce_every_s": 0},
    "skills": {"general": "General questions", "billing": "Bills and payments"},
    "queues": {
        "sales": {"requirements": {"general": 1}},
        "billing": {
            "requirements": {"billing": 1},
            "whisper": ["acd-whisper-vip", "acd-whisper-billing"],
        },
    },
    "agents": [
        {"ids": "8001-8002", "skills": {"general": 3}},
        {"ids": "8003", "skills": {"billing": 2}},
    ],
    "callbacks": {
        "dial": "PJSIP/{number}@trunk",
        "ring_timeout_s": 25,
        "retry_after_s": 120,
        "max_attempts": 2,
    },
}


def make_config(policy: dict[str, Any] | None = None, **queues: dict[str, Any]) -> AcdConfig:
    """``BASE_CONFIG`` with the given queues' settings added to (``sales={"recording": True}``)
    and an ``agent_policy``."""
    raw = copy.deepcopy(BASE_CONFIG)
    if policy is not None:
        raw["agent_policy"] = policy
    for name, settings in queues.items():
        raw["queues"].setdefault(name, {}).update(settings)
    return parse_config(raw, "<test>")


class FakeClock:
    """Epoch seconds that move only when a test (or the scripted Asterisk) says so."""

    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextlib.asynccontextmanager
async def running_acd(
    tmp_path: Path, config: AcdConfig, clock: FakeClock, instance: str = "test"
) -> AsyncIterator[Acd]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'acd.db'}"
    await upgrade(url)
    await sync_config(url, config)
    acd = Acd(url, config, instance, poll_interval=0.05, clock=clock)
    try:
        yield acd
    finally:
        await acd.stop()


async def log_in(acd: Acd, clock: FakeClock, *agents: str) -> None:
    """Log the agents in, one second apart (the first one has been idle longest)."""
    for agent in agents:
        await acd.agent_event(agent, "log_in")
        clock.advance(1.0)


async def agent_status(acd: Acd, agent_id: str) -> AgentStatus:
    async with acd.transaction() as conn:
        return (await load_agent(conn, agent_id)).status


async def call_row(acd: Acd, call_id: str) -> CallRecord | None:
    async with acd.transaction() as conn:
        return await load_call(conn, call_id)


async def queue_log(acd: Acd, call_id: str) -> list[dict[str, Any]]:
    """The call's queue-log lines, oldest first, as dicts of the row's columns."""
    query = select(QueueLogRow).where(QueueLogRow.call_id == call_id).order_by(QueueLogRow.id)
    async with acd.transaction() as conn:
        return [dict(row._mapping) for row in await conn.execute(query)]


async def queue_events(acd: Acd, call_id: str) -> list[tuple[str, str, str | None]]:
    """(event, queue, agent) of each of the call's queue-log lines."""
    return [(r["event"], r["queue"], r["agent_id"]) for r in await queue_log(acd, call_id)]


def agi_headers(channel: str, *args: str, **headers: str) -> dict[str, str]:
    """Headers of a FastAGI request from ``channel`` with the script arguments ``args``."""
    base = {k: v for k, v in HEADERS.items() if not k.startswith("agi_arg_")}
    base["agi_channel"] = channel
    for n, arg in enumerate(args, start=1):
        base[f"agi_arg_{n}"] = arg
    return {**base, **headers}


Hook = Callable[[], Awaitable[None]]
DialHook = Callable[[str], Awaitable[str]]


class ScriptedAsterisk:
    """The Asterisk end of one FastAGI session.

    ``keys``: one token per place a key can be pressed (a prompt with escape digits or a
    WAIT FOR DIGIT); a token of several digits is pressed one digit at a time, ``-`` is
    silence at a wait. With ``keys_after`` no key is pressed before that prompt is heard.
    ``on_wait`` runs at every WAIT FOR DIGIT (after ``clock`` moved on by its timeout);
    ``on_dial(dial arguments)`` runs at EXEC Dial and returns the DIALSTATUS to leave.
    Set ``hang_up`` (from a hook, or before) and the command in progress ends with the
    caller's hang-up; later commands get 511, but GET VARIABLE is still answered.
    """

    def __init__(
        self,
        *,
        keys: Sequence[str] = (),
        keys_after: str | None = None,
        clock: FakeClock | None = None,
        on_wait: Hook | None = None,
        on_dial: DialHook | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        self.script = list(keys)
        self.keys_after = keys_after
        self.clock = clock
        self.on_wait = on_wait
        self.on_dial = on_dial
        self.variables = dict(variables or {})
        self.commands: list[str] = []
        self.heard: list[str] = []
        self.dials: list[str] = []
        self.waits = 0
        self.hang_up = False
        self._gone = False
        self._buffer = ""
        self.error: BaseException | None = None

    @property
    def armed(self) -> bool:
        return self.keys_after is None or self.keys_after in self.heard

    def _key(self, at_wait: bool) -> str | None:
        if not self.armed:
            return None
        if not self._buffer:
            if not self.script or (not at_wait and self.script[0] == "-"):
                return None
            token = self.script.pop(0)
            if token == "-":
                return None
            self._buffer = token
        key, self._buffer = self._buffer[0], self._buffer[1:]
        return key

    def _hangup(self) -> list[str]:
        self._gone = True
        return ["HANGUP", "200 result=-1"]

    async def reply(self, command: str) -> list[str]:
        args = _QUOTED.findall(command)
        if command.startswith("GET VARIABLE"):
            value = self.variables.get(args[0])
            return ["200 result=0"] if value is None else [f"200 result=1 ({value})"]
        if self._gone:
            return [DEAD]
        if command.startswith("WAIT FOR DIGIT"):
            self.waits += 1
            if self.clock is not None:
                self.clock.advance(max(0, int(command.split()[-1])) / 1000)
            if self.on_wait is not None:
                await self.on_wait()
            if self.hang_up:
                return self._hangup()
            key = self._key(at_wait=True)
            return [f"200 result={ord(key) if key else 0}"]
        if command.startswith("STREAM FILE"):
            self.heard.append(args[0].removeprefix("hotline/"))
            if self.hang_up:
                return self._hangup()
            key = self._key(at_wait=False) if args[1] else None
            return [f"200 result={ord(key) if key else 0} endpos=8000"]
        if command.startswith("EXEC"):
            if args[0] == "Dial":
                self.dials.append(args[1])
                assert self.on_dial is not None, f"unexpected {command}"
                self.variables["DIALSTATUS"] = await self.on_dial(args[1])
            if self.hang_up:
                return self._hangup()
            return ["200 result=0"]
        if command.startswith("SET VARIABLE"):
            self.variables[args[0]] = args[1]
            return ["200 result=1"]
        if command.startswith(("ANSWER", "SET MUSIC")):
            return ["200 result=0"]
        return ["200 result=1"]

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                command = line.decode().removesuffix("\n")
                self.commands.append(command)
                lines = await self.reply(command)
                writer.write("".join(f"{one}\n" for one in lines).encode())
                await writer.drain()
        except Exception as exc:  # a failed hook: reported when the session closes
            self.error = exc
            writer.close()

    def after(self, prefix: str) -> list[str]:
        """The commands from the first one starting with ``prefix`` on."""
        for n, command in enumerate(self.commands):
            if command.startswith(prefix):
                return self.commands[n:]
        raise AssertionError(f"no command {prefix!r} in {self.commands}")


@contextlib.asynccontextmanager
async def agi_session(
    peer: ScriptedAsterisk, headers: Mapping[str, str]
) -> AsyncIterator[AgiSession]:
    """An AgiSession whose Asterisk is ``peer``; a hook's failure is raised at the end."""
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=ours)
    peer_reader, peer_writer = await asyncio.open_connection(sock=theirs)
    session = AgiSession(headers, reader, writer, command_timeout=2.0)
    task = asyncio.create_task(peer.serve(peer_reader, peer_writer))
    try:
        yield session
    finally:
        for end in (writer, peer_writer):
            end.close()
            with contextlib.suppress(OSError):
                await end.wait_closed()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if peer.error is not None:
            raise peer.error
