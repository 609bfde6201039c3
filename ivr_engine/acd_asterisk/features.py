"""FastAGI route ``agent-feature``: the feature codes agents dial on their phones.

The dialplan's ``[from-agents]`` context sends ``*11`` .. ``*14`` (and ``*13*N``) here as
``AGI(agi://<engine>/agent-feature,<code>)``. The agent is the endpoint that dialled (its
channel ``PJSIP/8001-...``), never a number in the code. The engine applies the event
through the ACD (validated, logged) and tells the agent what happened:

==========================  ========================================================
``agent-logged-in``          logged in (available, or paused if the policy says so)
``agent-logged-out``         logged out
``agent-paused``             paused (with the reason asked for)
``agent-ready``              available again (a pause ended, or wrap-up finished)
``agent-after-call``         noted: it takes effect when the current call is over
``agent-code-refused``       not possible now (e.g. ready while already available)
``agent-code-invalid``       no such code
``agent-unknown``            this phone is not an agent's
==========================  ========================================================
"""

from __future__ import annotations

import logging

from acd.agents import AgentEvent, AgentState, PauseReasonError, TransitionError, parse_feature_code
from acd.service.acd import Acd
from acd.store.agent_rows import UnknownAgent
from ivr_engine.acd_asterisk.agent_leg import WHISPER_LANGUAGE, agent_of_channel
from ivr_engine.agi.channel import AgiChannel
from ivr_engine.agi.session import AgiSession

log = logging.getLogger(__name__)

__all__ = ["FeatureCodes"]

_WHERE = {  # where the agent ended up: ready in wrap-up may end in a pause asked for earlier
    AgentState.AVAILABLE: "agent-ready",
    AgentState.LOGGED_OUT: "agent-logged-out",
    AgentState.PAUSED: "agent-paused",
}


class FeatureCodes:
    def __init__(self, acd: Acd) -> None:
        self.acd = acd

    async def __call__(self, session: AgiSession) -> None:
        code = session.arguments[0] if session.arguments else ""
        agent = agent_of_channel(session.channel)
        prompt = await self.handle(agent, code)
        channel = AgiChannel(session, WHISPER_LANGUAGE)
        await session.answer()
        await channel.set_language(WHISPER_LANGUAGE)
        await channel.play([prompt])
        await session.set_variable("ACD_FEATURE_RESULT", prompt)

    async def handle(self, agent: str, code: str) -> str:
        """Apply the code for ``agent``; the prompt that says what happened."""
        request = parse_feature_code(code, self.acd.config.policy.pause_reasons)
        if request is None:
            return "agent-code-invalid"
        try:
            change = await self.acd.agent_event(agent, request.event, reason=request.reason)
        except UnknownAgent:
            log.info("feature code %s from %s, which is no agent", code, agent)
            return "agent-unknown"
        except (TransitionError, PauseReasonError) as exc:
            log.info("feature code %s refused: %s", code, exc)
            return "agent-code-refused"
        log.info("agent %s: %s (%s -> %s)", agent, code, change.from_state, change.to_state)
        if change.from_state == change.to_state and change.from_state.with_call:
            return "agent-after-call"  # noted: after this call
        if request.event is AgentEvent.LOG_IN:
            return "agent-logged-in"
        return _WHERE.get(change.to_state, "agent-ready")
