"""goto: continue at another node."""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import GotoNode


async def run(node_id: str, node: GotoNode, ctx: CallContext) -> str | None:
    return node.to
