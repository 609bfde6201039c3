"""The menu flow: a FastAGI call handed to the interpreter, on the menu version in force
when the call started."""

from __future__ import annotations

import functools

from ivr_engine.agi.channel import AgiChannel
from ivr_engine.calls.call import Call, Flow
from ivr_engine.interpreter.context import CallContext, Services
from ivr_engine.interpreter.walker import walk
from ivr_engine.menus.loader import MenuSet
from ivr_engine.menus.registry import MenuRegistry


class MenuFlows:
    """Finds the menu flow for a dialled number (None when no menu answers it)."""

    def __init__(self, registry: MenuRegistry, services: Services) -> None:
        self.registry = registry
        self.services = services

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
        )
        guard = self.services.nuisance
        if guard is not None:  # before the answer: the caller hears ringing meanwhile
            ctx.nuisance = await guard.screen(ctx.caller)
            if ctx.nuisance is not None:
                ctx.step("nuisance", ctx.nuisance.describe())
        await call.session.answer()
        await channel.set_language(language)
        await walk(ctx, start)
        call.flow_outcome = ctx.outcome or "menu-ended"
