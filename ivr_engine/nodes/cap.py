"""cap: at most ``limit`` calls a day (or a month) through this point, per dialled number."""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import CapNode


async def run(node_id: str, node: CapNode, ctx: CallContext) -> str | None:
    now = ctx.services.calendar.now()
    period = now.strftime("%Y-%m-%d" if node.period == "daily" else "%Y-%m")
    count = await ctx.services.counters.increment(f"cap:{node.name}", ctx.dialled, period)
    over = count > node.limit
    ctx.step("cap", f"{node.name} {period}: {count}/{node.limit}{' over' if over else ''}")
    return node.over if over else node.next
