"""query: self-service data (balance, charges, package, bill, points) read back to the
caller; charge queries only for subscribers of this hotline's region."""

from __future__ import annotations

from ivr_engine.data.backend import BackendError
from ivr_engine.interpreter.context import CallContext
from ivr_engine.interpreter.say import say_prompts
from ivr_engine.menus.node_models import QueryNode
from ivr_engine.nodes.prompts import play


async def run(node_id: str, node: QueryNode, ctx: CallContext) -> str | None:
    profile = ctx.profile
    if node.local_only and (profile is None or profile.home_region != ctx.services.region):
        ctx.step("query-refused", f"{node.query}: not a local subscriber")
        return node.not_local or node.on_error
    try:
        data = await ctx.services.backend.query(ctx.caller, node.query)
    except BackendError as exc:
        ctx.step("query-failed", f"{node.query}: {exc}")
        return node.on_error
    ctx.step("query", f"{node.query}: " + ", ".join(f"{k}={v}" for k, v in data.items()))
    ctx.variables.update({f"{node.query}_{k}": v for k, v in data.items()})
    await play(ctx, say_prompts(node.say, data, ctx.channel.language))
    return node.next
