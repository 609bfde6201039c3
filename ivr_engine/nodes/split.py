"""split: share calls between destinations by ratio."""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import SplitNode


async def run(node_id: str, node: SplitNode, ctx: CallContext) -> str | None:
    targets, weights = list(node.ratios), list(node.ratios.values())
    chosen = ctx.services.rng.choices(targets, weights=weights)[0]
    ctx.step("split", f"{node_id} -> {chosen}")
    return chosen
