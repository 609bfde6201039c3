"""transfer: hand the call to a number; the dialplan dials it when the engine lets go."""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import TransferNode
from ivr_engine.nodes.prompts import play


async def hand_over(ctx: CallContext, number: str, outcome: str) -> None:
    await ctx.channel.set_result("IVR_TRANSFER", number)
    ctx.finish(outcome)


async def run(node_id: str, node: TransferNode, ctx: CallContext) -> str | None:
    await play(ctx, node.prompts)
    await hand_over(ctx, node.to, f"transferred:{node.to}")
    return None
