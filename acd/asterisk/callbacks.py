"""Making a callback: the ACD has reserved an agent for it; ring the agent through AMI.

``Originate`` calls the agent's endpoint; when the agent answers, Asterisk runs the
engine's ``callback`` FastAGI route on the agent's channel (:mod:`acd.asterisk.agent_leg`),
which whispers and then dials the customer. If the agent does not answer within the ring
time, the callback goes back in line (that agent is not offered it again) and the agent's
missed call counts as any other.
"""

from __future__ import annotations

import logging

from acd.service.acd import Acd
from acd.service.tickets import Offer
from acd.store.call_rows import CallRecord
from ivr_engine.ami import AmiLink, AmiUnavailable

log = logging.getLogger(__name__)

__all__ = ["CallbackDialler"]


class CallbackDialler:
    def __init__(self, acd: Acd, ami: AmiLink, agi_host: str, agi_port: int) -> None:
        self.acd = acd
        self.ami = ami
        self.agi_host = agi_host
        self.agi_port = agi_port

    async def __call__(self, record: CallRecord, offer: Offer) -> None:
        rules = self.acd.config.callbacks
        ring = max(1, round(self.acd.config.queues[record.queue].ring_timeout_s))
        action = {
            "Action": "Originate",
            "Channel": offer.endpoint,
            "Application": "AGI",
            "Data": f"agi://{self.agi_host}:{self.agi_port}/callback,{record.id}",
            "Timeout": str(ring * 1000),
            "CallerID": f'"Callback" <{record.callback_number or ""}>',
            "Async": "false",
        }
        log.info("callback %s to %s: ringing agent %s", record.id, rules.dial, offer.agent_id)
        try:
            response = await self.ami.action(action, timeout=ring + 10)
        except AmiUnavailable as exc:
            await self.acd.not_answered(record.id, offer.agent_id, f"originate: {exc}")
            return
        if getattr(response, "success", False) is not True:
            why = response.get("Message", "no answer") if hasattr(response, "get") else "no answer"
            await self.acd.not_answered(record.id, offer.agent_id, f"originate: {why}")
