"""Playing prompts from a node, with a journal step for each batch."""

from __future__ import annotations

from collections.abc import Sequence

from ivr_engine.interpreter.context import CallContext

DIGIT_KEYS = "0123456789*#"


async def play(ctx: CallContext, prompts: Sequence[str], escape: str = "") -> str | None:
    """Play prompts; return the key that interrupted them (only keys in ``escape``)."""
    if not prompts:
        return None
    ctx.step("prompt", " ".join(prompts))
    return await ctx.channel.play(prompts, escape)
