"""collect: digits with a minimum and maximum length, a terminator and a timeout, stored in
a call variable. Secret input (passwords, card numbers) is masked in the journal."""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import CollectNode
from ivr_engine.nodes.prompts import DIGIT_KEYS, play
from ivr_engine.nodes.retry import Misses, give_up


async def collect_digits(
    ctx: CallContext,
    prompts: list[str],
    *,
    max_digits: int,
    terminator: str | None,
    timeout: float,
    secret: bool,
) -> tuple[str, bool]:
    """Play the prompts (keys barge in) and collect digits; returns (digits, timed_out)."""
    ctx.mask(secret)
    try:
        first = await play(ctx, prompts, DIGIT_KEYS)
        digits, timed_out = await ctx.channel.collect(first, max_digits, terminator, timeout)
    finally:
        ctx.mask(False)
    ctx.pressed(digits, secret=secret)
    return digits, timed_out


async def run(node_id: str, node: CollectNode, ctx: CallContext) -> str | None:
    no_input, invalid = Misses(node.no_input), Misses(node.invalid)
    before: list[str] = []
    offer = True
    while True:
        prompts = before + (list(node.prompts) if offer else [])
        digits, _ = await collect_digits(
            ctx,
            prompts,
            max_digits=node.max,
            terminator=node.terminator,
            timeout=node.timeout,
            secret=node.secret,
        )
        if node.min <= len(digits) <= node.max:
            ctx.variables[node.store] = digits
            ctx.step("collected", f"{node.store}={'*' * len(digits) if node.secret else digits}")
            return node.next
        misses = no_input if not digits else invalid
        ctx.step("no-input" if not digits else "invalid-input", f"{node_id} #{misses.count + 1}")
        after = misses.miss()
        if after.give_up:
            await give_up(ctx, "no-input" if not digits else "invalid-input")
            return None
        if after.then is not None:
            return after.then
        before, offer = after.prompts, after.reprompt
