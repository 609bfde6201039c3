"""The interpreter's ``Channel`` over a FastAGI session: what a node plays, hears and
hands to the dialplan, as AGI commands. Prompts are the sound files ``hotline/<id>``."""

from __future__ import annotations

from collections.abc import Sequence

from ivr_engine.agi.session import AgiSession

SOUND_PREFIX = "hotline/"


class AgiChannel:
    """A Channel (``ivr_engine.interpreter.channel``) over one call's FastAGI session."""

    def __init__(self, session: AgiSession, language: str) -> None:
        self.session = session
        self.language = language

    async def play(self, prompts: Sequence[str], escape: str = "") -> str | None:
        for prompt in prompts:
            key = await self.session.stream_file(SOUND_PREFIX + prompt, escape_digits=escape)
            if key is not None:
                return key
        return None

    async def wait_key(self, timeout: float) -> str | None:
        return await self.session.wait_for_digit(int(timeout * 1000))

    async def collect(
        self, first: str | None, max_digits: int, terminator: str | None, timeout: float
    ) -> tuple[str, bool]:
        digits = ""
        key = first
        while True:
            if key is None:
                key = await self.session.wait_for_digit(int(timeout * 1000))
                if key is None:
                    return digits, True
            if terminator is not None and key == terminator:
                return digits, False
            digits += key
            if len(digits) >= max_digits:
                return digits, False
            key = None

    async def set_language(self, language: str) -> None:
        self.language = language
        await self.session.set_variable("CHANNEL(language)", language)

    async def set_result(self, name: str, value: str) -> None:
        await self.session.set_variable(name, value)

    async def hangup(self) -> None:
        await self.session.hangup()
