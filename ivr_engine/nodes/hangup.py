"""hangup: say goodbye (if given), record how the call ended, hang up."""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import HangupNode
from ivr_engine.nodes.prompts import play


async def run(node_id: str, node: HangupNode, ctx: CallContext) -> str | None:
    await play(ctx, node.prompts)
    ctx.finish(node.outcome)
    await ctx.channel.hangup()
    return None
