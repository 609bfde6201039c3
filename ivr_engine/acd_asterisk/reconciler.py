"""Keep the ACD's store true to Asterisk: at start, as soon as a new AMI session is up
(Asterisk restarted), and every ``interval`` seconds.

Events get lost: the engine is killed mid-call, an AMI session drops a hang-up. The
reconciler asks Asterisk for its live channels (``CoreShowChannels``) and device states
(``DeviceStateList``) and lets :meth:`acd.service.acd.Acd.reconcile` repair agents stuck
reserved or on a call, and waiting calls whose caller is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from acd.service.acd import Acd
from ivr_engine.acd_asterisk.channels import live_channels
from ivr_engine.acd_asterisk.devices import DeviceStates
from ivr_engine.ami import AmiLink, AmiUnavailable

log = logging.getLogger(__name__)

__all__ = ["Reconciler"]


class Reconciler:
    def __init__(self, acd: Acd, ami: AmiLink, devices: DeviceStates, interval: float) -> None:
        self.acd = acd
        self.ami = ami
        self.devices = devices
        self.interval = interval
        self.runs = 0
        self.repairs = 0
        self.last_error: str | None = None

    async def run(self) -> None:
        seen_connection: float | None = None
        while True:
            if not await self.ami.wait_connected(self.interval):
                continue
            # A new AMI session (Asterisk restarted: every channel it had is gone) cuts the
            # pause short: the store is set right at once, not an interval later.
            reconnected = self.ami.next_session()
            fresh = self.ami.connected_since != seen_connection
            seen_connection = self.ami.connected_since
            try:
                if fresh:  # a new AMI session: device states from scratch
                    await self.devices.refresh(self.ami)
                await self.run_once()
            except AmiUnavailable as exc:
                self.last_error = str(exc)
                log.warning("reconcile skipped: %s", exc)
            except Exception as exc:  # the database is away: try again next round
                self.acd.metrics.error("acd_database")
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("reconcile failed: %s", self.last_error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reconnected.wait(), self.interval)

    async def run_once(self) -> list[str]:
        live = await live_channels(self.ami)
        repaired = await self.acd.reconcile(live.agents, live.unique_ids)
        self.runs += 1
        self.repairs += len(repaired)
        self.last_error = None
        return repaired
