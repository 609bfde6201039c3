"""survey: a satisfaction question answered by one key."""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import SurveyNode
from ivr_engine.nodes.prompts import play


async def run(node_id: str, node: SurveyNode, ctx: CallContext) -> str | None:
    keys = "".join(node.answers)
    key = await play(ctx, node.prompts, keys)
    if key is None:
        key = await ctx.channel.wait_key(node.timeout)
    answer = node.answers.get(key or "", "no-answer")
    if key:
        ctx.pressed(key)
    ctx.variables["survey"] = answer
    ctx.step("survey", answer)
    if key in node.answers:
        await play(ctx, node.thanks)
    return node.next
