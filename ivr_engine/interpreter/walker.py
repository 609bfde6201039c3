"""Walk a call through the menu: run a node, follow the target it returns, until the call
ends. Reserved targets: 'back' (the previous menu), 'repeat' (this menu again), 'return'
(back from a sub-menu).

The walker knows no node type: ``run_node`` (``ivr_engine.nodes.run_node``, handed in by
the menu flow and the simulator) runs each one, so the nodes, which use the context and
channel declared here, sit above the interpreter's own modules and nothing runs in a
circle."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import type_name

log = logging.getLogger(__name__)

NodeRunner = Callable[[str, Any, CallContext], Awaitable[str | None]]

MAX_STEPS = 500  # a call that visits this many nodes is stuck in a loop: end it


async def walk(ctx: CallContext, start: str, run_node: NodeRunner) -> None:
    ctx.step("menu-version", ctx.menus.version)
    target: str | None = start
    for _ in range(MAX_STEPS):
        if target is None:
            return
        node_id = resolve(ctx, target)
        if node_id is None:
            ctx.finish("menu-ended")
            return
        node = ctx.menus.nodes[node_id]
        ctx.step("node", f"{node_id} ({type_name(node)})")
        target = await run_node(node_id, node, ctx)
    log.error("call %s visited %d nodes: ended as a loop", ctx.record.call_id, MAX_STEPS)
    ctx.finish("loop-limit")


def resolve(ctx: CallContext, target: str) -> str | None:
    """The node a target names, or None when there is nowhere to go."""
    if target == "repeat":
        return ctx.menu_trail[-1] if ctx.menu_trail else None
    if target == "back":
        if len(ctx.menu_trail) > 1:
            ctx.menu_trail.pop()
        return ctx.menu_trail[-1] if ctx.menu_trail else None
    if target == "return":
        return ctx.returns.pop() if ctx.returns else None
    return target
