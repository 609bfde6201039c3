"""queue: hand the call to an agent with skill requirements and a priority.

Until the ACD routes calls itself, the call rings the node's ``ring`` number; the
requirements are left on the channel (IVR_SKILLS, IVR_PRIORITY) for the agent side.
"""

from __future__ import annotations

from ivr_engine.interpreter.context import CallContext
from ivr_engine.menus.nodes import QueueNode
from ivr_engine.nodes.prompts import play
from ivr_engine.nodes.transfer import hand_over


async def run(node_id: str, node: QueueNode, ctx: CallContext) -> str | None:
    await play(ctx, node.prompts)
    skills = ",".join(f"{skill}:{level}" for skill, level in node.skills.items())
    ctx.step("queue", f"{node_id} skills={skills or '-'} priority={node.priority}")
    await ctx.channel.set_result("IVR_SKILLS", skills)
    await ctx.channel.set_result("IVR_PRIORITY", str(node.priority))
    await hand_over(ctx, node.ring, "agent")
    return None
