"""What the interpreter needs from a call's audio side.

Nodes never talk AGI: they play prompts, wait for keys, collect digits, transfer and
hang up through a ``Channel``. ``ivr_engine.agi.channel.AgiChannel`` does it over a
FastAGI session; the simulator has a terminal implementation of the same protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Channel(Protocol):
    language: str

    async def play(self, prompts: Sequence[str], escape: str = "") -> str | None:
        """Play the prompts in order; a key in ``escape`` stops them and is returned."""

    async def wait_key(self, timeout: float) -> str | None:
        """Wait up to ``timeout`` seconds for one key."""

    async def collect(
        self, first: str | None, max_digits: int, terminator: str | None, timeout: float
    ) -> tuple[str, bool]:
        """Keys after ``first`` (already pressed, or None) until ``max_digits``, the
        terminator or ``timeout`` seconds of silence; returns (digits, timed_out)."""

    async def set_language(self, language: str) -> None: ...

    async def set_result(self, name: str, value: str) -> None:
        """Leave a value for the dialplan (transfer target, queue, outcome)."""

    async def hangup(self) -> None: ...
