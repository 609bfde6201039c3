"""branch: the first case whose condition holds decides; otherwise the default."""

from __future__ import annotations

from ivr_engine.interpreter.conditions import holds
from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import BranchNode


async def run(node_id: str, node: BranchNode, ctx: CallContext) -> str | None:
    now = ctx.services.calendar.now()
    for index, case in enumerate(node.cases):
        if holds(case.when, ctx, now):
            ctx.step("branch", f"{node_id} case {index + 1} -> {case.goto}")
            return case.goto
    ctx.step("branch", f"{node_id} default -> {node.default}")
    return node.default
