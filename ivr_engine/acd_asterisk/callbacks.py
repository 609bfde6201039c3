"""Making a callback: the ACD has reserved an agent for it; ring the agent through AMI.

``Originate`` (asynchronous: the engine's AMI session is never held up while a phone
rings) calls the agent's endpoint; when the agent answers, Asterisk runs the engine's
``callback`` FastAGI route on the agent's channel (:mod:`ivr_engine.acd_asterisk.agent_leg`), which
whispers and then dials the customer. :class:`CallbackLegs` is how the route tells the
dialler that the agent answered and that the leg is over. If the agent does not answer
within the ring time, the callback goes back in line (that agent is not offered it again)
and the agent's missed call counts as any other. The dialler's task lasts until the leg is
over, so the ACD never starts the same callback twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from acd.service.acd import Acd
from acd.service.tickets import Offer
from acd.store.call_rows import CallRecord
from ivr_engine.ami import AmiLink, AmiUnavailable

log = logging.getLogger(__name__)

__all__ = ["ANSWER_MARGIN_S", "CallbackDialler", "CallbackLegs"]

ANSWER_MARGIN_S = 5.0  # after the ring time, how long the answered leg has to report in
MAX_LEG_S = 4 * 3600.0


@dataclass
class _Leg:
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class CallbackLegs:
    """The callbacks this instance is ringing agents for, and how far each has got."""

    def __init__(self) -> None:
        self._legs: dict[str, _Leg] = {}

    def expect(self, call_id: str) -> None:
        self._legs[call_id] = _Leg()

    def forget(self, call_id: str) -> None:
        self._legs.pop(call_id, None)

    def answered(self, call_id: str) -> None:
        if (leg := self._legs.get(call_id)) is not None:
            leg.answered.set()

    def ended(self, call_id: str) -> None:
        if (leg := self._legs.get(call_id)) is not None:
            leg.ended.set()

    async def wait(self, call_id: str, what: str, timeout: float) -> bool:
        leg = self._legs.get(call_id)
        if leg is None:
            return False
        event = leg.answered if what == "answered" else leg.ended
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        return event.is_set()


class CallbackDialler:
    def __init__(
        self,
        acd: Acd,
        ami: AmiLink,
        agi_host: str,
        agi_port: int,
        legs: CallbackLegs,
        *,
        answer_margin: float = ANSWER_MARGIN_S,
    ) -> None:
        self.acd = acd
        self.ami = ami
        self.agi_host = agi_host
        self.agi_port = agi_port
        self.legs = legs
        self.answer_margin = answer_margin

    async def __call__(self, record: CallRecord, offer: Offer) -> None:
        ring = max(1, round(self.acd.config.queues[record.queue].ring_timeout_s))
        action = {
            "Action": "Originate",
            "Channel": offer.endpoint,
            "Application": "AGI",
            "Data": f"agi://{self.agi_host}:{self.agi_port}/callback,{record.id}",
            "Timeout": str(ring * 1000),
            "CallerID": f'"Callback" <{record.callback_number or ""}>',
            "Async": "true",
        }
        log.info("callback %s: ringing agent %s", record.id, offer.agent_id)
        self.legs.expect(record.id)
        try:
            try:
                response = await self.ami.action(action)
            except AmiUnavailable as exc:
                await self.acd.not_answered(record.id, offer.agent_id, f"originate: {exc}")
                return
            if getattr(response, "success", False) is not True:
                why = response.get("Message", "refused") if hasattr(response, "get") else "refused"
                await self.acd.not_answered(record.id, offer.agent_id, f"originate: {why}")
                return
            if not await self.legs.wait(record.id, "answered", ring + self.answer_margin):
                await self.acd.not_answered(record.id, offer.agent_id, "no answer")
                return
            await self.legs.wait(record.id, "ended", MAX_LEG_S)
        finally:
            self.legs.forget(record.id)
