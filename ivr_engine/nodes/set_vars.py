"""set: call variables, and the language the caller hears from now on."""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import SetNode


async def run(node_id: str, node: SetNode, ctx: CallContext) -> str | None:
    ctx.variables.update(node.vars)
    if node.language is not None and node.language != ctx.channel.language:
        await ctx.channel.set_language(node.language)
        ctx.step("language", node.language)
    if node.vars:
        ctx.step("set", ", ".join(f"{k}={v}" for k, v in node.vars.items()))
    return node.next
