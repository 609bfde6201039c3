"""The API as the engine serves it: every feature module's table on one server, each with
its tools, built here once."""

from __future__ import annotations

from importlib.metadata import version
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from acd.service.acd import Acd
from ivr_engine.access.audit import AuditLog
from ivr_engine.access.tokens import TokenStore
from ivr_engine.acd_asterisk.supervision import Supervision
from ivr_engine.http.api.agents import AGENT_ENDPOINTS
from ivr_engine.http.api.audit import AUDIT_ENDPOINTS
from ivr_engine.http.api.blacklist_api import BLACKLIST_ENDPOINTS, BlacklistStore
from ivr_engine.http.api.guard import Guard
from ivr_engine.http.api.holiday_editor import HolidayEditor
from ivr_engine.http.api.holidays_api import HOLIDAY_ENDPOINTS
from ivr_engine.http.api.menus_api import MENU_ENDPOINTS
from ivr_engine.http.api.reports import REPORT_ENDPOINTS, ReportTools
from ivr_engine.http.api.server import ApiServer
from ivr_engine.http.api.supervisor import SUPERVISOR_ENDPOINTS, SupervisorTools
from ivr_engine.interpreter.calendar import Calendar, Holidays
from ivr_engine.menus.registry import MenuRegistry
from ivr_engine.settings import Settings

INFO = {
    "title": "ivr-engine operations API",
    "version": version("ivr-engine"),
    "description": (
        "Agents, supervisors and operations staff run the hotline from here."
        " Every request carries a bearer token (`ivr-engine token create`); its role"
        " (agent, supervisor, admin) decides what it may do, an agent acts on itself only,"
        " and every state-changing request is written to the audit log."
    ),
}


def build_api(
    engine: AsyncEngine,
    acd: Acd | None,
    supervision: Supervision | None,
    *,
    settings: Settings,
    menus: MenuRegistry | None = None,
    calendar: Calendar | None = None,
) -> ApiServer:
    """The API on the engine's database; ACD endpoints only when the ACD runs; the
    blacklist always; menus and holidays endpoints when given the engine's menu registry
    and calendar (the calendar must hold its holidays as read from their file)."""
    audit = AuditLog(engine)
    server = ApiServer(Guard(TokenStore(engine)), audit, INFO)
    if acd is not None and supervision is not None:
        server.add(AGENT_ENDPOINTS, acd)
        supervisor = SupervisorTools(
            acd,
            supervision,
            engine,
            settings.reports.service_level,
            ZoneInfo(settings.calendar.timezone),
        )
        server.add(SUPERVISOR_ENDPOINTS, supervisor)
    server.add(REPORT_ENDPOINTS, ReportTools(engine, settings))
    server.add(BLACKLIST_ENDPOINTS, BlacklistStore(settings, engine))
    if menus is not None:
        server.add(MENU_ENDPOINTS, menus)
    if calendar is not None and isinstance(calendar.holidays, Holidays):
        path = calendar.holidays.path or settings.path(settings.hotline.holidays)
        server.add(HOLIDAY_ENDPOINTS, HolidayEditor(calendar.holidays, path))
    server.add(AUDIT_ENDPOINTS, audit)
    return server
