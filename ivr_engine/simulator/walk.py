"""Walk a menu in the terminal, without Asterisk: ``ivr-engine simulate``.

The same interpreter and nodes run as on a real call; only the channel differs. Prompts
are shown as their catalogue text, keys come from ``--keys`` (or are asked for), and every
step the journal would record (branches taken, data looked up) is printed as it happens.
Keys: one token per time the menu waits: a key (``1``), several digits for a collect
(``123456``), or ``-`` for silence (the caller presses nothing).

A queue node's call waits at a simulated desk (:mod:`ivr_engine.simulator.desk`): in its
queue of the ACD configuration, on a simulated clock, until the configuration's agents
are free ``agent_after`` seconds later, and the menu goes on at ``after_agent``. With the
ACD switched off (``acd.enabled: false``) queue nodes ring their ``ring`` seat, as they do
on a real call.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ivr_engine.journal import CallRecord, Step
from ivr_engine.prompts.catalogue import Prompt

Output = Callable[[str], None]
SILENCE = "-"


class PrintingRecord(CallRecord):
    """A journal record that also prints each step as it is added."""

    def __init__(self, out: Output, **fields: Any) -> None:
        super().__init__(**fields)
        self._out = out

    def add_step(self, kind: str, detail: str = "", at: datetime | None = None) -> Step:
        if kind not in ("prompt", "keys"):
            self._out(f"  [{kind}] {detail}")
        return super().add_step(kind, detail, at)


class TerminalChannel:
    """A Channel that shows prompts as text and takes keys from a script or the keyboard."""

    def __init__(
        self,
        catalogue: Sequence[Prompt],
        language: str,
        keys: Sequence[str] | None,
        out: Output,
        ask: Callable[[str], str] = input,
    ) -> None:
        self.texts = {(p.prompt_id, p.language): p.text for p in catalogue}
        self.language = language
        self.script = list(keys) if keys is not None else None
        self.out = out
        self.ask = ask
        self.buffer = ""  # digits typed ahead of what the menu took
        self.hung_up = False

    async def _next(self, what: str) -> str:
        if not self.buffer:
            if self.script is not None:
                if not self.script:
                    self.out("  (no more keys: the caller stays silent)")
                    return SILENCE
                self.buffer = self.script.pop(0)
            else:
                typed = await asyncio.to_thread(self.ask, f"  keys for {what} (- for silence): ")
                self.buffer = typed.strip() or SILENCE
        if self.buffer == SILENCE:
            self.buffer = ""
            return SILENCE
        key, self.buffer = self.buffer[0], self.buffer[1:]
        return key

    async def play(self, prompts: Sequence[str], escape: str = "") -> str | None:
        texts = [self.texts.get((p, self.language), f"<missing prompt {p}>") for p in prompts]
        if texts:
            self.out("  ♪ " + " ".join(texts))
        # A key scripted next barges in; silence ("-") is left for the wait that follows.
        if not escape or not (self.buffer or (self.script and self.script[0] != SILENCE)):
            return None
        key = await self._next("the prompt")
        self.out(f"  caller presses {key}")
        return key

    async def wait_key(self, timeout: float) -> str | None:
        key = await self._next(f"a key ({timeout:g} s)")
        if key == SILENCE:
            self.out(f"  ... {timeout:g} s of silence")
            return None
        self.out(f"  caller presses {key}")
        return key

    async def collect(
        self, first: str | None, max_digits: int, terminator: str | None, timeout: float
    ) -> tuple[str, bool]:
        digits = ""
        key = first
        while len(digits) < max_digits:
            if key is None:
                key = await self._next("digits")
                if key == SILENCE:
                    self.out(f"  ... {timeout:g} s of silence")
                    return digits, True
            if key == terminator:
                return digits, False
            digits += key
            key = None
            if not self.buffer and self.script is not None:
                break  # a token of digits is one entry
        return digits, False

    async def set_language(self, language: str) -> None:
        self.language = language

    async def set_result(self, name: str, value: str) -> None:
        self.out(f"  -> dialplan {name}={value}")

    async def hangup(self) -> None:
        self.hung_up = True
        self.out("  (engine hangs up)")


async def simulate(
    settings: Any,
    dnis: str,
    caller: str,
    keys: Sequence[str] | None,
    out: Output,
    at: datetime | None = None,
    agent_after: float = 20.0,
) -> str:
    """Walk one call; return its outcome. ``agent_after``: seconds a queue node's call
    waits before the agents are free."""

    from acd.config import load_config
    from ivr_engine.interpreter.context import CallContext
    from ivr_engine.interpreter.walker import walk
    from ivr_engine.menus.loader import load_menus, prompt_ids_by_language
    from ivr_engine.nodes import run_node
    from ivr_engine.prompts.catalogue import load_catalogue
    from ivr_engine.services import open_services, upgrade_databases
    from ivr_engine.simulator.desk import SimulatedDesk

    catalogue = load_catalogue()
    menus = load_menus([settings.path(settings.hotline.menus)], prompt_ids_by_language(catalogue))
    if dnis not in menus.entries:
        raise ValueError(f"no menu answers {dnis}; entries: {', '.join(sorted(menus.entries))}")
    start = menus.entries[dnis]
    language = menus.defaults_for(start).language
    channel = TerminalChannel(catalogue, language, keys, out)
    desk = None
    if settings.acd.enabled:
        config = load_config(settings.path(settings.acd.config))
        desk = SimulatedDesk(config, channel, caller, agent_after, out)
    record = PrintingRecord(
        out, caller=caller, dialled=dnis, channel="terminal", unique_id="simulated"
    )
    await upgrade_databases(settings)
    clock = None if at is None else functools.partial(_moment, at)
    async with open_services(settings, clock=clock) as services:
        ctx = CallContext(
            menus=menus,
            channel=channel,
            record=record,
            services=services,
            caller=caller,
            dialled=dnis,
            desk=desk,
        )
        out(f"call from {caller} to {dnis} (menus {menus.version}, {language})")
        await walk(ctx, start, run_node)
    outcome = ctx.outcome or "menu-ended"
    out(f"call ended: {outcome}; keys pressed: {record.keys or '-'}")
    return outcome


def _moment(at: datetime) -> datetime:
    """The simulator's clock under ``--at``: the same moment all along."""
    return at
