"""queue: hand the call to an agent through the ACD (skills, priority, escalation).

The call waits in the node's ACD ``queue`` (config/acd.yaml) at the call's waiting desk
(``CallContext.desk``) until an agent has talked to the caller; then the menu goes on at
``after_agent`` (a survey, say), or the call ends. A caller who takes a callback is
thanked and let go; a max-wait announcement sends the call to its destination.
When the ACD cannot take the call (no ``queue`` named, no desk because the ACD is switched
off, a queue the ACD does not know, or its database unreachable), the call rings the
node's ``ring`` seat through the dialplan instead, with the skills and priority left on
the channel (IVR_SKILLS, IVR_PRIORITY).
"""

from __future__ import annotations

import logging

from ivr_engine.interpreter.context import CallContext
from ivr_engine.interpreter.waiting import DeskUnavailable
from ivr_engine.menus.node_models import QueueNode
from ivr_engine.nodes.prompts import play
from ivr_engine.nodes.transfer import hand_over

log = logging.getLogger(__name__)


async def run(node_id: str, node: QueueNode, ctx: CallContext) -> str | None:
    await play(ctx, node.prompts)
    skills = ",".join(f"{skill}:{level}" for skill, level in node.skills.items())
    ctx.step("queue", f"{node_id} skills={skills or '-'} priority={node.priority}")
    desk = ctx.desk
    if desk is not None and node.queue is not None and desk.serves(node.queue):
        try:
            outcome = await desk.wait(
                ctx.record.call_id, node.queue, lambda detail: ctx.step("acd", detail)
            )
        except DeskUnavailable as exc:
            log.error("ACD unavailable for call %s: %s", ctx.record.call_id, exc)
            ctx.step("acd", f"unavailable ({exc.kind}): ringing {node.ring}")
        else:
            if outcome.kind == "talked":
                ctx.finish("agent")
                return node.after_agent
            if outcome.kind == "callback":
                ctx.finish("callback")
                await ctx.channel.hangup()
                return None
            await hand_over(ctx, outcome.destination or node.ring, "announced")
            return None
    await ctx.channel.set_result("IVR_SKILLS", skills)
    await ctx.channel.set_result("IVR_PRIORITY", str(node.priority))
    await hand_over(ctx, node.ring, "agent")
    return None
