"""Operations staff (role admin): the menus (:mod:`.menus_api`), the blacklist
(:mod:`.blacklist_api`) and the holiday calendar (:mod:`.holidays_api`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from ivr_engine.http.api.blacklist_api import blacklist_endpoints
from ivr_engine.http.api.endpoint import Endpoint
from ivr_engine.http.api.holidays_api import holiday_endpoints
from ivr_engine.http.api.menus_api import menu_endpoints
from ivr_engine.interpreter.calendar import Calendar, Holidays
from ivr_engine.menus.registry import MenuRegistry
from ivr_engine.settings import Settings


def operations_endpoints(
    engine: AsyncEngine,
    settings: Settings,
    menus: MenuRegistry | None,
    calendar: Calendar | None,
) -> list[Endpoint]:
    """The blacklist always; the menus and holidays when the engine lends its registry and
    its calendar (the calendar must hold its holidays as read from their file)."""
    endpoints = blacklist_endpoints(settings, engine)
    if menus is not None:
        endpoints += menu_endpoints(menus)
    if calendar is not None and isinstance(calendar.holidays, Holidays):
        path = calendar.holidays.path or settings.path(settings.hotline.holidays)
        endpoints += holiday_endpoints(calendar.holidays, path)
    return endpoints
