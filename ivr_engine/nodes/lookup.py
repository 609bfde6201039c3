"""lookup: identify the caller by number (brand, VIP, region, status, blacklist, network).

A caller the nuisance guard refused (``ctx.nuisance``) comes out blacklisted, whatever the
subscriber system says."""

from __future__ import annotations

from dataclasses import replace

from ivr_engine.data.backend import BackendError
from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.node_models import LookupNode


async def run(node_id: str, node: LookupNode, ctx: CallContext) -> str | None:
    number = ctx.caller if node.number == "caller" else str(ctx.variables.get(node.var or ""))
    try:
        profile = await ctx.services.backend.profile(number)
    except BackendError as exc:
        ctx.step("lookup-failed", f"{node_id}: {exc}")
        return node.on_error
    if ctx.nuisance is not None and node.number == "caller":
        profile = replace(profile, blacklisted=True)  # refused as a blacklisted caller
    ctx.profile = profile
    ctx.step(
        "lookup",
        f"known={profile.known} brand={profile.brand} vip={profile.vip} "
        f"region={profile.home_region or '-'} status={profile.status} "
        f"blacklisted={profile.blacklisted} network={profile.network}",
    )
    return node.next
