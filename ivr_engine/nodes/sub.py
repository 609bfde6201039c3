"""sub: enter a sub-menu; a 'return' target in it comes back to this node's ``next``."""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import SubNode

MAX_NESTING = 20


async def run(node_id: str, node: SubNode, ctx: CallContext) -> str | None:
    if len(ctx.returns) >= MAX_NESTING:
        ctx.step("sub-refused", f"{node_id}: nested {MAX_NESTING} deep")
        return node.next
    ctx.returns.append(node.next)
    return node.call
