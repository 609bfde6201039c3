"""play: one or more prompts; with barge-in a key stops them and is kept for the next menu."""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import PlayNode
from ivr_engine.nodes.prompts import DIGIT_KEYS, play


async def run(node_id: str, node: PlayNode, ctx: CallContext) -> str | None:
    if node.barge_in and ctx.pending_key is not None:
        return node.next  # the caller already keyed ahead: don't make them listen
    key = await play(ctx, node.prompts, DIGIT_KEYS if node.barge_in else "")
    if key is not None:
        ctx.pressed(key)
        ctx.pending_key = key
    return node.next
