"""The API as the engine serves it: every feature module's endpoints on one server."""

from __future__ import annotations

from importlib.metadata import version

from sqlalchemy.ext.asyncio import AsyncEngine

from acd.service.acd import Acd
from ivr_engine.access.audit import AuditLog
from ivr_engine.access.tokens import TokenStore
from ivr_engine.acd_asterisk.supervision import Supervision
from ivr_engine.http.api.agents import agent_endpoints
from ivr_engine.http.api.audit import audit_endpoints
from ivr_engine.http.api.guard import Guard
from ivr_engine.http.api.operations import operations_endpoints
from ivr_engine.http.api.reports import report_endpoints
from ivr_engine.http.api.server import ApiServer
from ivr_engine.http.api.supervisor import supervisor_endpoints
from ivr_engine.interpreter.calendar import Calendar
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
    """The API on the engine's database; ACD endpoints only when the ACD runs; menus and
    holidays endpoints when given the engine's menu registry and calendar."""
    tokens = TokenStore(engine)
    audit = AuditLog(engine)
    server = ApiServer(Guard(tokens), audit, INFO)
    if acd is not None and supervision is not None:
        server.add(agent_endpoints(acd))
        server.add(supervisor_endpoints(acd, supervision))
    server.add(report_endpoints(engine, settings))
    server.add(operations_endpoints(engine, settings, menus, calendar))
    server.add(audit_endpoints(audit))
    return server
