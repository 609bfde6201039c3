"""menu: offer keys, wait, and follow the key; no-input and invalid keys are counted apart,
each with its own escalating prompts. The file's menu-wide keys (0 for an agent, * back,
# repeat, ...) work here unless the menu overrides them."""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import MenuNode
from ivr_engine.nodes.prompts import DIGIT_KEYS, play
from ivr_engine.nodes.retry import Misses, give_up

MAX_TRAIL = 50


def menu_keys(node_id: str, node: MenuNode, ctx: CallContext) -> dict[str, str]:
    """The keys this menu answers: the file's menu-wide keys, the node's overrides, options."""
    keys = dict(ctx.menus.defaults_for(node_id).keys)
    for key, target in node.keys.items():
        if target is None:
            keys.pop(key, None)
        else:
            keys[key] = target
    keys.update(node.options)
    return keys


async def run(node_id: str, node: MenuNode, ctx: CallContext) -> str | None:
    # The trail is a breadcrumb: coming back to a menu on it drops what came after it.
    if node_id in ctx.menu_trail:
        del ctx.menu_trail[ctx.menu_trail.index(node_id) + 1 :]
    else:
        ctx.menu_trail.append(node_id)
        del ctx.menu_trail[:-MAX_TRAIL]
    keys = menu_keys(node_id, node, ctx)
    no_input, invalid = Misses(node.no_input), Misses(node.invalid)
    before: list[str] = []
    offer = True
    while True:
        key, ctx.pending_key = ctx.pending_key, None
        typed_ahead = key is not None  # already in the journal: the prompt it stopped noted it
        if key is None:
            key = await play(ctx, before + (list(node.prompts) if offer else []), DIGIT_KEYS)
        if key is None:
            key = await ctx.channel.wait_key(node.timeout)
        if key is None:
            ctx.step("no-input", f"{node_id} #{no_input.count + 1}")
            after = no_input.miss()
        elif key in keys:
            if not typed_ahead:
                ctx.pressed(key)
            return keys[key]
        else:
            if not typed_ahead:
                ctx.pressed(key)
            ctx.step("invalid-key", f"{node_id} {key} #{invalid.count + 1}")
            after = invalid.miss()
        if after.give_up:
            await give_up(ctx, "no-input" if key is None else "invalid-input")
            return None
        if after.then is not None:
            return after.then
        before, offer = after.prompts, after.reprompt
