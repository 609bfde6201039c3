"""One module per node type: each reads the call, decides, and returns where to go next
(a node id, a reserved target, or None when the call is over)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ivr_engine.interpreter.context import CallContext
from ivr_engine.nodes import (
    branch,
    cap,
    collect,
    goto,
    hangup,
    lookup,
    menu,
    play,
    query,
    queue,
    set_vars,
    split,
    sub,
    survey,
    transaction,
    transfer,
)

Handler = Callable[[str, Any, CallContext], Awaitable[str | None]]

HANDLERS: dict[str, Handler] = {
    "play": play.run,
    "menu": menu.run,
    "collect": collect.run,
    "branch": branch.run,
    "lookup": lookup.run,
    "query": query.run,
    "transaction": transaction.run,
    "set": set_vars.run,
    "split": split.run,
    "cap": cap.run,
    "goto": goto.run,
    "sub": sub.run,
    "transfer": transfer.run,
    "queue": queue.run,
    "survey": survey.run,
    "hangup": hangup.run,
}


async def run_node(node_id: str, node: Any, ctx: CallContext) -> str | None:
    return await HANDLERS[node.type](node_id, node, ctx)
