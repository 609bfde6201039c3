"""The first hotline flow: greet, take one key, say it back, say goodbye, hang up."""

from __future__ import annotations

from ivr_engine.calls.call import ALL_KEYS, Call

WAIT_FOR_KEY_MS = 5000


async def welcome_flow(call: Call) -> None:
    session = call.session
    await session.answer()
    await session.set_variable("CHANNEL(language)", "en")
    key = await session.stream_file("hotline/welcome", escape_digits=ALL_KEYS)
    if key is None:
        key = await session.wait_for_digit(WAIT_FOR_KEY_MS)
    if key is None:
        await session.stream_file("hotline/no-key-goodbye")
        call.outcome("no-input")
    else:
        call.pressed(key)
        await session.stream_file("hotline/you-pressed")
        await session.say_digits(key)
        await session.stream_file("hotline/thank-you-goodbye")
        call.outcome("completed")
    await session.hangup()
