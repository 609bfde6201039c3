"""Run a menu against an in-process Asterisk peer whose caller presses scripted keys.

The engine side is real: FastAgiServer, CallRunner, MenuFlows, AgiChannel, the nodes.
Only Asterisk (the peer) and the subscriber backend (in memory) are stand-ins.
Keys: one token per place the menu waits or plays an interruptible prompt: a key, several
digits for a collect, or "-" for silence (consumed only where the menu waits).
"""

from __future__ import annotations

import random
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ivr_engine.agi.server import FastAgiServer
from ivr_engine.calls.menu_flow import DeskFor, MenuFlows
from ivr_engine.calls.runner import CallRunner
from ivr_engine.data.backend import BackendError, Profile, TopupResult
from ivr_engine.data.nuisance import NuisanceGuard
from ivr_engine.interpreter.calendar import Calendar
from ivr_engine.interpreter.context import Services
from ivr_engine.journal import CallRecord, JournalWriter
from ivr_engine.menus.registry import MenuRegistry
from ivr_engine.privacy import FULL, JournalPrivacy
from tests.unit.agi.peer import HEADERS, eventually, fake_call, make_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


class ScriptedCaller:
    """The caller behind the fake Asterisk: hears prompts, presses keys from a script."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.script = list(keys)
        self.buffer = ""
        self.heard: list[str] = []
        self.variables: dict[str, str] = {}
        self.hung_up = False

    def _key(self, at_wait: bool) -> str | None:
        if not self.buffer:
            if not self.script or (not at_wait and self.script[0] == "-"):
                return None
            token = self.script.pop(0)
            if token == "-":
                return None
            self.buffer = token
        key, self.buffer = self.buffer[0], self.buffer[1:]
        return key

    def __call__(self, command: str) -> list[str]:
        args = _QUOTED.findall(command)
        if command.startswith("STREAM FILE"):
            self.heard.append(args[0].removeprefix("hotline/"))
            key = self._key(at_wait=False) if len(args) > 1 and args[1] else None
            return [f"200 result={ord(key) if key else 0} endpos=800"]
        if command.startswith("WAIT FOR DIGIT"):
            key = self._key(at_wait=True)
            return [f"200 result={ord(key) if key else 0}"]
        if command.startswith("SET VARIABLE"):
            self.variables[args[0]] = args[1]
            return ["200 result=1"]
        if command.startswith("HANGUP"):
            self.hung_up = True
            return ["200 result=1"]
        return ["200 result=0"]


@dataclass
class MemoryBackend:
    """Subscriber backend and counters in memory, for unit tests."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    cards: dict[str, Decimal] = field(default_factory=dict)
    balance: dict[str, Decimal] = field(default_factory=dict)
    suspended: set[str] = field(default_factory=set)
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)
    failing: bool = False

    def _check(self) -> None:
        if self.failing:
            raise BackendError("backend down")

    async def profile(self, number: str) -> Profile:
        self._check()
        return self.profiles.get(number) or Profile.unknown(number)

    async def query(self, number: str, what: str) -> dict[str, Any]:
        self._check()
        return self.data[number][what]  # type: ignore[no-any-return]

    async def verify_password(self, number: str, password: str) -> bool:
        self._check()
        return self.passwords.get(number) == password

    async def topup(self, number: str, card_pin: str) -> TopupResult:
        self._check()
        amount = self.cards.pop(card_pin, None)
        if amount is None:
            return TopupResult(False, None, "card-invalid")
        self.balance[number] = self.balance.get(number, Decimal(0)) + amount
        return TopupResult(True, self.balance[number], "ok")

    async def set_suspended(self, number: str, suspended: bool) -> bool:
        self._check()
        (self.suspended.add if suspended else self.suspended.discard)(number)
        return True

    async def close(self) -> None:
        return None

    async def get(self, name: str, key: str, period: str = "") -> int:
        return self.counts.get((name, key, period), 0)

    async def increment(self, name: str, key: str, period: str = "") -> int:
        self.counts[(name, key, period)] = self.counts.get((name, key, period), 0) + 1
        return self.counts[(name, key, period)]

    async def reset(self, name: str, key: str, period: str = "") -> None:
        self.counts.pop((name, key, period), None)


@dataclass
class MemorySink:
    saved: list[CallRecord] = field(default_factory=list)

    async def save(self, record: CallRecord) -> None:
        self.saved.append(record)


@dataclass
class Outcome:
    caller: ScriptedCaller
    record: CallRecord

    @property
    def heard(self) -> list[str]:
        return self.caller.heard

    def steps(self, kind: str) -> list[str]:
        return [s.detail for s in self.record.steps if s.kind == kind]


def profile(number: str, **fields: Any) -> Profile:
    values: dict[str, Any] = {
        "number": number,
        "known": True,
        "brand": "gotone",
        "vip": False,
        "vip_level": 0,
        "arpu": Decimal(50),
        "home_region": "beijing",
        "status": "active",
        "blacklisted": False,
        "network": "on-net",
        "package": "gotone-58",
    }
    values.update(fields)
    return Profile(**values)


async def run_menu(
    tmp_path: Path,
    menu_yaml: str,
    keys: Sequence[str] = (),
    *,
    caller: str = "13800138000",
    dialled: str = "10086",
    backend: MemoryBackend | None = None,
    now: datetime = MONDAY_NOON,
    holidays: frozenset[Any] = frozenset(),
    seed: int = 7,
    privacy: JournalPrivacy = FULL,
    nuisance: NuisanceGuard | None = None,
    desks: DeskFor | None = None,
) -> Outcome:
    """Place one call through the real engine stack on ``menu_yaml`` (one menu file);
    ``privacy``: how the journal keeps numbers; ``nuisance``: the guard calls pass;
    ``desks``: the ACD's waiting desk for the call (None: the ACD is off)."""
    menu_file = tmp_path / "menu.yaml"
    menu_file.write_text(textwrap.dedent(menu_yaml))
    registry = MenuRegistry([menu_file])
    registry.load()
    store = backend or MemoryBackend()
    calendar = Calendar(SHANGHAI, 4 * 1440 + 18 * 60, 6 * 1440, holidays, lambda: now)
    services = Services(store, store, calendar, "beijing", random.Random(seed), nuisance)
    sink = MemorySink()
    writer = JournalWriter(sink)
    writer.start()
    server = FastAgiServer(
        make_settings(),
        {"hotline": CallRunner(MenuFlows(registry, services, desks), writer, "test", privacy)},
    )
    await server.start()
    scripted = ScriptedCaller(keys)
    headers = {
        **HEADERS,
        "agi_network_script": "hotline",
        "agi_extension": dialled,
        "agi_callerid": caller,
    }
    try:
        await fake_call(server.port, scripted, headers)
        await eventually(lambda: bool(sink.saved) and sink.saved[-1].finished)
    finally:
        await server.stop()
        await writer.close()
    return Outcome(scripted, sink.saved[-1])
