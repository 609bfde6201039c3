"""The menu flow: a FastAGI call handed to the interpreter, on the menu version in force
when the call started."""

from __future__ import annotations

from ivr_engine.calls.call import Call, Flow
from ivr_engine.interpreter.channel import AgiChannel
from ivr_engine.interpreter.context import CallContext, Services
from ivr_engine.interpreter.walker import walk
from ivr_engine.menus.registry import MenuRegistry


class MenuFlows:
    """Finds the menu flow for a dialled number (None when no menu answers it)."""

    def __init__(self, registry: MenuRegistry, services: Services) -> None:
        self.registry = registry
        self.services = services

    def __call__(self, dialled: str) -> Flow | None:
        return self.run if dialled in self.registry.current.entries else None

    async def run(self, call: Call) -> None:
        menus = self.registry.current  # this call keeps this version to its end
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
        await call.session.answer()
        await channel.set_language(language)
        await walk(ctx, start)
        call.flow_outcome = ctx.outcome or "menu-ended"
