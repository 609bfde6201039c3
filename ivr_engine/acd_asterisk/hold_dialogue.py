"""What a caller waiting for an agent hears and keys: the place in the queue with the
estimated wait (the first after ``FIRST_ANNOUNCEMENT_S``), and the callback offer.

Spoken over any ``Channel``, so a real call (:mod:`ivr_engine.acd_asterisk.caller`) and a
simulated one (:mod:`ivr_engine.simulator.desk`) say the same prompts and take the same
keys. Music on hold and the ACD's side of a callback stay with the caller of these.
"""

from __future__ import annotations

import math

from ivr_engine.interpreter.channel import Channel
from ivr_engine.interpreter.waiting import Note
from ivr_engine.speech.numbers import number_prompts

__all__ = [
    "CALLBACK_KEY_S",
    "FIRST_ANNOUNCEMENT_S",
    "MIN_NUMBER",
    "announce_place",
    "ask_callback_number",
]

FIRST_ANNOUNCEMENT_S = 3.0  # a caller put through at once hears no queue position
CALLBACK_KEY_S = 6.0  # how long the caller has to answer the callback offer
MIN_NUMBER = 5  # digits of a callback number keyed in, at least


async def announce_place(channel: Channel, position: int, seconds: float, note: Note) -> None:
    """ "You are number ``position`` in the queue, your estimated wait is N minutes": the
    wait in whole minutes, rounded up, at least one."""
    language = channel.language
    prompts = ["acd-position-before", *number_prompts(position, language), "acd-position-after"]
    minutes = max(1, math.ceil(seconds / 60))
    prompts += ["acd-wait-before", *number_prompts(minutes, language), "acd-minutes"]
    note(f"announce position={position} wait={minutes}min")
    await channel.play(prompts)


async def ask_callback_number(channel: Channel, caller: str, note: Note) -> str | None:
    """The number to call back, or None (the caller keeps waiting): 1 takes ``caller``'s
    own number, 2 a number keyed in (``#`` ends it, at least ``MIN_NUMBER`` digits);
    anything else, or nothing, declines."""
    note("callback offered")
    key = await channel.play(["acd-callback-offer"], "12#")
    if key is None:
        key = await channel.wait_key(CALLBACK_KEY_S)
    number = caller
    if key == "2":
        await channel.play(["acd-callback-enter-number"])
        number, _ = await channel.collect(None, 20, "#", CALLBACK_KEY_S)
    if key not in ("1", "2") or len(number) < MIN_NUMBER or not number.isdigit():
        if key in ("1", "2"):
            await channel.play(["acd-callback-invalid"])
        note(f"callback declined (key {key or 'none'})")
        return None
    return number
