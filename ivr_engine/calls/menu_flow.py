"""The menu flow: a FastAGI call handed to the interpreter, on the menu version in force
when the call started, with the ACD's waiting desk bound to the call's channel."""

from __future__ import annotations

import functools
from collections.abc import Callable

from ivr_engine.agi.channel import AgiChannel
from ivr_engine.calls.call import Call, Flow
from ivr_engine.interpreter.context import CallContext, Services
from ivr_engine.interpreter.waiting import WaitingDesk
from ivr_engine.interpreter.walker import walk
from ivr_engine.menus.loader import MenuSet
from ivr_engine.menus.registry import MenuRegistry
from ivr_engine.nodes import run_node

DeskFor = Callable[[AgiChannel], WaitingDesk]
"""Binds the ACD's desk to one call's channel (``QueueDesk.for_call``)."""


class MenuFlows:
    """Finds the menu flow for a dialled number (None when no menu answers it).

    ``desks``: the ACD's desk for each call's queue nodes; None when the ACD is off (queue
    nodes then ring their ``ring`` seat)."""

    def __init__(
        self, registry: MenuRegistry, services: Services, desks: DeskFor | None = None
    ) -> None:
        self.registry = registry
        self.services = services
        self.desks = desks

    def __call__(self, dialled: str) -> Flow | None:
        # The version is taken once, here: a reload between finding the entry and running
        # the call cannot take the entry away, and the call keeps this version to its end.
        menus = self.registry.current
        if dialled not in menus.entries:
            return None
        return functools.partial(self.run, menus)

    async def run(self, menus: MenuSet, call: Call) -> None:
        start = menus.entries[call.session.dialled]
        language = menus.defaults_for(start).language
        channel = AgiChannel(call.session, language)

        def mask(on: bool) -> None:
            call.masked = on

        ctx = CallContext(
            menus=menus,
            channel=channel,
            record=call.record,
            services=self.services,
            caller=call.session.caller,
            dialled=call.session.dialled,
            on_mask=mask,
            desk=None if self.desks is None else self.desks(channel),
        )
        guard = self.services.nuisance
        if guard is not None:  # before the answer: the caller hears ringing meanwhile
            ctx.nuisance = await guard.screen(ctx.caller)
            if ctx.nuisance is not None:
                ctx.step("nuisance", ctx.nuisance.describe())
        await call.session.answer()
        await channel.set_language(language)
        await walk(ctx, start, run_node)
        call.flow_outcome = ctx.outcome or "menu-ended"
