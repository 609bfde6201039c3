"""The agent's side of an ACD call, as FastAGI routes of the engine.

``agent-answer`` runs on the agent's channel the moment the agent picks up, before the
caller is connected: the dialplan's ``acd-agent`` subroutine (Dial's ``U()`` option)
calls ``AGI(agi://<engine>/agent-answer,<call id>)``. The engine records the answer
(the agent is on the call, the caller's wait ends) and plays the whisper: the queue's
prompts, so the agent knows what kind of caller this is (a VIP, a complaint). If the call
is no longer offered to this agent (the caller hung up while it rang), the subroutine is
told to abort and the agent's leg is hung up.

``callback`` runs on the agent's channel of a callback: the ACD reserved the agent and
had Asterisk call them (AMI Originate). Once the agent answers, the engine records it,
whispers "a callback", then dials the customer and reports how that went.
"""

from __future__ import annotations

import logging

from acd.config import CallbackSettings
from acd.service.acd import Acd
from acd.store.call_rows import CallRecord
from ivr_engine.acd_asterisk.callbacks import CallbackLegs
from ivr_engine.agi.channel import AgiChannel
from ivr_engine.agi.errors import CallerHangup
from ivr_engine.agi.session import AgiSession

log = logging.getLogger(__name__)

__all__ = ["AgentAnswer", "CallbackLeg", "agent_of_channel"]

WHISPER_LANGUAGE = "zh"


def agent_of_channel(channel: str) -> str:
    """``PJSIP/8001-0000002a`` -> ``8001``."""
    name = channel.split("/", 1)[-1]
    return name.rsplit("-", 1)[0] if "-" in name else name


class AgentAnswer:
    """FastAGI route ``agent-answer``: the agent picked up a queued call."""

    def __init__(self, acd: Acd) -> None:
        self.acd = acd

    async def __call__(self, session: AgiSession) -> None:
        args = session.arguments
        agent = agent_of_channel(session.channel)
        if not args:
            log.warning("agent-answer without a call id on %s", session.channel)
            await session.set_variable("GOSUB_RESULT", "ABORT")
            return
        record = await self.acd.answered(args[0], agent)
        if record is None:
            log.info("agent %s answered call %s, which is gone", agent, args[0])
            await session.set_variable("GOSUB_RESULT", "ABORT")
            return
        settings = self.acd.config.queues.get(record.queue)
        prompts = list(settings.whisper_prompts) if settings else []
        channel = AgiChannel(session, WHISPER_LANGUAGE)
        await channel.set_language(WHISPER_LANGUAGE)
        await channel.play(prompts)


class CallbackLeg:
    """FastAGI route ``callback``: the agent of a callback answered; call the customer.

    ``legs`` (the dialler's) hears that the agent answered and when the leg is over."""

    def __init__(self, acd: Acd, legs: CallbackLegs | None = None) -> None:
        self.acd = acd
        self.legs = legs

    @property
    def rules(self) -> CallbackSettings:
        return self.acd.config.callbacks

    async def __call__(self, session: AgiSession) -> None:
        args = session.arguments
        agent = agent_of_channel(session.channel)
        record = await self.acd.answered(args[0], agent, kind="callback") if args else None
        if record is None or not record.callback_number:
            log.warning("callback leg for %s on %s: no such callback", args, session.channel)
            return
        if self.legs is not None:
            self.legs.answered(record.id)
        status = "NOANSWER"
        try:
            status = await self._call_customer(session, record)
        except CallerHangup:  # the agent hung up: how far did the customer's Dial get?
            status = await session.variable_after_hangup("DIALSTATUS") or "AGENT-HANGUP"
            raise
        finally:
            try:
                await self.acd.callback_ended(record, agent, status)
            finally:
                if self.legs is not None:
                    self.legs.ended(record.id)

    async def _call_customer(self, session: AgiSession, record: CallRecord) -> str:
        channel = AgiChannel(session, WHISPER_LANGUAGE)
        await channel.set_language(WHISPER_LANGUAGE)
        settings = self.acd.config.queues.get(record.queue)
        await channel.play(
            ["acd-whisper-callback", *(settings.whisper_prompts if settings else ())]
        )
        number = record.callback_number or ""
        dial = self.rules.dial.format(number=number)
        ring = max(1, round(self.rules.ring_timeout_s))
        await session.exec("Dial", dial, str(ring), "g", timeout=ring + 4 * 3600.0)
        return (await session.get_variable("DIALSTATUS")) or "NOANSWER"
