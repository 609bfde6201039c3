"""Every endpoint of the operations API, with every role and with no token.

The table below is who may call what. The test fails when an endpoint is added, removed or
given other roles than the table says (the table is then to be changed on purpose), when
the guard admits a role it should refuse or refuses one it should admit, and when a
state-changing request, admitted or refused, does not leave exactly one audit entry with
who made it, what, on what and how it ended.

Admitted means anything but 401 or 403 (and no 5xx): the requests carry a body the
endpoints refuse (422) where they take one, so that nothing but the guard decides.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ground.paths import PROJECT_ROOT
from ivr_engine.access.roles import Role
from ivr_engine.access.tables import AuditRow
from ivr_engine.http.api.endpoint import Endpoint
from ivr_engine.http.api.server import PREFIX
from ivr_engine.interpreter.calendar import Calendar
from ivr_engine.menus.loader import prompt_ids_by_language
from ivr_engine.menus.registry import MenuRegistry
from ivr_engine.prompts.catalogue import load_catalogue
from ivr_engine.settings import DatabaseSettings, HotlineSettings, Settings
from tests.db.api_support import ApiHarness, api_harness

AGENT, STAFF, ADMIN = {"agent"}, {"supervisor", "admin"}, {"admin"}
EVERYONE = AGENT | STAFF

# (method, path) -> (the roles admitted, an agent only on itself)
EXPECTED: dict[tuple[str, str], tuple[set[str], bool]] = {
    ("GET", "/agents/{agent_id}"): (EVERYONE, True),
    ("POST", "/agents/{agent_id}/login"): (AGENT, True),
    ("POST", "/agents/{agent_id}/logout"): (AGENT, True),
    ("POST", "/agents/{agent_id}/pause"): (AGENT, True),
    ("POST", "/agents/{agent_id}/ready"): (AGENT, True),
    ("POST", "/agents/{agent_id}/wrap-up/finish"): (AGENT, True),
    ("GET", "/agents"): (STAFF, False),
    ("GET", "/queues"): (STAFF, False),
    ("POST", "/queues/{queue}/priority"): (STAFF, False),
    ("GET", "/calls"): (STAFF, False),
    ("POST", "/agents/{agent_id}/force-logout"): (STAFF, False),
    ("POST", "/agents/{agent_id}/force-pause"): (STAFF, False),
    ("POST", "/agents/{agent_id}/listen"): (STAFF, False),
    ("POST", "/agents/{agent_id}/whisper"): (STAFF, False),
    ("POST", "/agents/{agent_id}/barge"): (STAFF, False),
    ("POST", "/calls/{call_id}/transfer"): (STAFF, False),
    ("POST", "/calls/{call_id}/hangup"): (STAFF, False),
    ("GET", "/reports/queues"): (STAFF, False),
    ("GET", "/reports/agents"): (STAFF, False),
    ("GET", "/reports/ivr"): (STAFF, False),
    ("GET", "/reports/funnel"): (STAFF, False),
    ("GET", "/reports/repeat-callers"): (STAFF, False),
    ("GET", "/reports/fluctuation"): (STAFF, False),
    ("GET", "/reports/survey"): (STAFF, False),
    ("GET", "/blacklist"): (ADMIN, False),
    ("POST", "/blacklist"): (ADMIN, False),
    ("DELETE", "/blacklist/{number}"): (ADMIN, False),
    ("GET", "/menus"): (ADMIN, False),
    ("GET", "/menus/versions/{version}"): (ADMIN, False),
    ("POST", "/menus/validate"): (ADMIN, False),
    ("POST", "/menus/activate"): (ADMIN, False),
    ("POST", "/menus/rollback"): (ADMIN, False),
    ("POST", "/menus/reload"): (ADMIN, False),
    ("GET", "/holidays"): (ADMIN, False),
    ("POST", "/holidays"): (ADMIN, False),
    ("DELETE", "/holidays/{date}"): (ADMIN, False),
    ("GET", "/audit"): (ADMIN, False),
}

PATH_VALUES = {
    "agent_id": "8001",
    "queue": "general",
    "call_id": "c-none",
    "number": "13400134999",
    "version": "0123456789ab",
    "date": "2027-01-01",
}
# Who calls, with the name and role the audit log must show ("8002" is an agent acting on
# agent 8001, refused where an agent acts on itself only).
CALLERS: dict[str | None, tuple[str, str | None]] = {
    None: ("-", None),
    "admin": ("ops", "admin"),
    "supervisor": ("wang", "supervisor"),
    "8001": ("li-na", "agent"),
    "8002": ("zhao", "agent"),
}
PROBE_BODY = {"not-a-field": True}  # every body model forbids unknown fields: 422
MENUS = PROJECT_ROOT / "config" / "menus"
HOLIDAYS = PROJECT_ROOT / "config" / "holidays.yaml"


@pytest.fixture
async def api(tmp_path: Path, db_url: str) -> AsyncIterator[ApiHarness]:
    """The API with every endpoint: ACD, supervision, reports, operations (menus on a copy
    of config/menus, holidays on a copy of the holiday file), audit."""
    menu_dir = tmp_path / "menus"
    shutil.copytree(MENUS, menu_dir)
    holidays = tmp_path / "holidays.yaml"
    shutil.copy(HOLIDAYS, holidays)
    registry = MenuRegistry([menu_dir], lambda: prompt_ids_by_language(load_catalogue()))
    registry.load()
    settings = Settings(
        database=DatabaseSettings(url=db_url),
        hotline=HotlineSettings(menus=str(menu_dir), holidays=str(holidays)),
    )
    calendar = Calendar.from_settings(settings.calendar, holidays)
    async with api_harness(db_url, settings=settings, menus=registry, calendar=calendar) as h:
        yield h


def _admits(endpoint: Endpoint[Any], who: str | None) -> bool:
    roles, own_agent = EXPECTED[(endpoint.method, endpoint.path)]
    if who is None:
        return False
    role = CALLERS[who][1]
    if role not in roles:
        return False
    return not (role == "agent" and own_agent and who != PATH_VALUES["agent_id"])


async def _audit_rows(api: ApiHarness) -> list[Any]:
    async with api.server.audit.engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(AuditRow))
        rows = (
            await conn.execute(select(AuditRow.__table__).order_by(AuditRow.id.desc()).limit(1))
        ).all()
    return [count, *rows]


def test_the_route_table_is_the_expected_one(api: ApiHarness) -> None:
    declared = {
        (e.method, e.path): ({r.value for r in e.roles}, e.own_agent) for e in api.server.endpoints
    }
    assert len(declared) == len(api.server.endpoints)  # no route declared twice
    assert declared == EXPECTED
    assert {r.value for r in Role} == EVERYONE
    # The API serves the table and its OpenAPI document, nothing else.
    served = {(route.method, route.path) for route in api.server.routes()}
    table = {(method, PREFIX + path) for method, path in EXPECTED}
    assert served == table | {("GET", PREFIX + "/openapi.json")}


async def test_every_endpoint_admits_exactly_its_roles_and_audits_every_change(
    api: ApiHarness,
) -> None:
    problems: list[str] = []
    for endpoint in api.server.endpoints:
        path = endpoint.path.format(**PATH_VALUES)
        body = PROBE_BODY if endpoint.body is not None else None
        for who, (actor, role) in CALLERS.items():
            before = await _audit_rows(api)
            status, answer = await api.call(endpoint.method, path, who, body)
            what = f"{endpoint.method} {endpoint.path} as {who or 'no token'}: {status} {answer}"
            if _admits(endpoint, who):
                if status in (401, 403) or status >= 500:
                    problems.append(f"refused or failed, should be admitted: {what}")
            elif status != (401 if who is None else 403):
                problems.append(f"should be {401 if who is None else 403}: {what}")
            after = await _audit_rows(api)
            written = after[0] - before[0]
            if not endpoint.changes_state:
                if written:
                    problems.append(f"a read wrote {written} audit entries: {what}")
                continue
            if written != 1:
                problems.append(f"{written} audit entries, not one: {what}")
                continue
            entry = after[1]
            found = (entry.actor, entry.role, entry.action, entry.status)
            expected = (actor, role, f"{endpoint.method} {PREFIX}{endpoint.path}", status)
            if found != expected:
                problems.append(f"audit entry {found}, expected {expected}: {what}")
            names = [name for name in PATH_VALUES if "{" + name + "}" in endpoint.path]
            target = ",".join(f"{name}={PATH_VALUES[name]}" for name in names)
            if entry.target != target:
                problems.append(f"audit target {entry.target!r}, expected {target!r}: {what}")
    assert problems == []
