"""Who may call the API: tokens (bad, revoked, expired), roles, agents on themselves only,
and the audit log of every state-changing request, allowed or refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ground.clock import utc_now
from ivr_engine.access.roles import Role
from ivr_engine.access.tables import ApiTokenRow, AuditRow
from ivr_engine.access.tokens import TokenStore
from tests.db.api_support import ApiHarness, api_harness


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[ApiHarness]:
    async with api_harness(db_url) as harness:
        yield harness


def store(api: ApiHarness) -> TokenStore:
    return api.server.guard.tokens


async def audit_rows(api: ApiHarness) -> list[AuditRow]:
    async with store(api).engine.connect() as conn:
        return list(await conn.execute(select(AuditRow).order_by(AuditRow.id)))  # type: ignore[arg-type]


async def test_no_token_malformed_token_or_wrong_secret_are_401(api: ApiHarness) -> None:
    status, body = await api.call("GET", "/agents/8001", None)
    assert (status, body["error"]) == (401, "unauthorized")
    token_id = api.tokens["8001"].split(".")[0]
    for bad in ["nonsense", api.tokens["8001"] + "x", token_id + "." + "A" * 43, "x" * 5000]:
        response = await api.client.get(
            "/api/v1/agents/8001", headers={"Authorization": f"Bearer {bad}"}
        )
        assert response.status == 401, bad
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = await api.client.get(
        "/api/v1/agents/8001", headers={"Authorization": f"Basic {api.tokens['8001']}"}
    )
    assert response.status == 401


async def test_a_revoked_or_expired_token_is_refused(api: ApiHarness) -> None:
    assert (await api.call("GET", "/agents/8001", "8001"))[0] == 200
    token_id = api.tokens["8001"].split(".")[0].removeprefix("ivr_")
    assert await store(api).revoke(token_id)
    assert not await store(api).revoke(token_id)  # already revoked
    assert (await api.call("GET", "/agents/8001", "8001"))[0] == 401

    _, token = await store(api).create(
        "temp", Role.SUPERVISOR, expires_at=utc_now() + timedelta(hours=1)
    )
    api.tokens["temp"] = token
    assert (await api.call("GET", "/agents", "temp"))[0] == 200
    async with store(api).engine.begin() as conn:
        await conn.execute(
            update(ApiTokenRow).where(ApiTokenRow.name == "temp").values(expires_at=utc_now())
        )
    assert (await api.call("GET", "/agents", "temp"))[0] == 401


async def test_only_digests_are_stored(api: ApiHarness) -> None:
    async with store(api).engine.connect() as conn:
        rows = list(await conn.execute(select(ApiTokenRow.__table__)))
    assert len(rows) == 4
    secrets = {token.split(".")[1] for token in api.tokens.values()}
    for row in rows:
        assert all(secret not in str(tuple(row)) for secret in secrets)
        assert len(row.secret_sha256) == 64


async def test_an_agent_acts_on_itself_only(api: ApiHarness) -> None:
    status, body = await api.call("POST", "/agents/8002/login", "8001")
    assert (status, body["detail"]) == (403, "an agent acts on itself only")
    assert (await api.call("GET", "/agents/8002", "8001"))[0] == 403
    assert (await api.call("POST", "/agents/8001/login", "8001"))[0] == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/agents", None),
        ("GET", "/queues", None),
        ("GET", "/calls", None),
        ("POST", "/agents/8002/force-logout", None),
        ("POST", "/agents/8002/force-pause", {}),
        ("POST", "/agents/8002/listen", {"phone": "8049"}),
        ("POST", "/calls/c1/hangup", None),
        ("POST", "/calls/c1/transfer", {"to": "8003"}),
        ("GET", "/audit", None),
    ],
)
async def test_agents_may_not_supervise(
    api: ApiHarness, method: str, path: str, body: object
) -> None:
    status, reply = await api.call(method, path, "8001", body)
    assert status == 403
    assert reply["error"] == "forbidden"


async def test_supervisors_may_not_act_as_agents_or_read_the_audit_log(api: ApiHarness) -> None:
    assert (await api.call("POST", "/agents/8001/login", "supervisor"))[0] == 403
    assert (await api.call("POST", "/agents/8001/pause", "admin", {"reason": "lunch"}))[0] == 403
    assert (await api.call("GET", "/audit", "supervisor"))[0] == 403
    assert (await api.call("GET", "/audit", "admin"))[0] == 200
    assert (await api.call("GET", "/agents/8001", "supervisor"))[0] == 200


async def test_every_state_change_is_audited_allowed_or_refused(api: ApiHarness) -> None:
    await api.call("GET", "/agents", "supervisor")  # reads are not audited
    await api.call("POST", "/agents/8001/login", "8001")
    await api.call("POST", "/agents/8001/pause", "8001", {"reason": "lunch"})
    await api.call("POST", "/agents/8002/login", "8001")  # another agent: refused
    await api.call("POST", "/agents/8001/force-logout", None)  # no token
    await api.call("POST", "/agents/8001/pause", "8001", {"reason": "NOT A CODE"})
    rows = await audit_rows(api)
    summary = [(r.actor, r.role, r.action, r.target, r.status) for r in rows]
    assert summary == [
        ("li-na", "agent", "POST /api/v1/agents/{agent_id}/login", "agent_id=8001", 200),
        ("li-na", "agent", "POST /api/v1/agents/{agent_id}/pause", "agent_id=8001", 200),
        ("li-na", "agent", "POST /api/v1/agents/{agent_id}/login", "agent_id=8002", 403),
        ("-", None, "POST /api/v1/agents/{agent_id}/force-logout", "agent_id=8001", 401),
        ("li-na", "agent", "POST /api/v1/agents/{agent_id}/pause", "agent_id=8001", 422),
    ]
    assert rows[1].detail == {"reason": "lunch"}
    status, body = await api.call("GET", "/audit", "admin", limit="2")
    assert status == 200
    assert [e["status"] for e in body["entries"]] == [422, 401]  # newest first
    status, body = await api.call("GET", "/audit", "admin", actor="li-na")
    assert len(body["entries"]) == 4
    assert (await api.call("GET", "/audit", "admin", limit="0"))[0] == 422


async def test_bad_input_is_refused_with_the_field(api: ApiHarness) -> None:
    await api.call("POST", "/agents/8001/login", "8001")
    status, body = await api.call("POST", "/agents/8001/pause", "8001", {"reason": "x" * 40})
    assert status == 422
    assert body["problems"][0]["field"] == "reason"
    status, body = await api.call("POST", "/agents/8001/pause", "8001", {"why": "lunch"})
    assert status == 422
    assert {p["field"] for p in body["problems"]} == {"reason", "why"}
    json_type = {**api.auth("8001"), "Content-Type": "application/json"}
    response = await api.client.post(
        "/api/v1/agents/8001/pause", headers=json_type, data=b"{not json"
    )
    assert response.status == 400
    response = await api.client.post(
        "/api/v1/agents/8001/pause",
        headers={**api.auth("8001"), "Content-Type": "text/plain"},
        data=b"reason=lunch",
    )
    assert response.status == 415


async def test_the_openapi_document_describes_every_route(api: ApiHarness) -> None:
    from openapi_spec_validator import validate

    response = await api.client.get("/api/v1/openapi.json")
    assert response.status == 200
    document = await response.json()
    validate(document)
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert ("POST", "/api/v1/agents/{agent_id}/pause") in operations
    assert {
        ("POST", "/api/v1" + e.path) for e in api.server.endpoints if e.method == "POST"
    } <= operations
    pause = document["paths"]["/api/v1/agents/{agent_id}/pause"]["post"]
    assert {"401", "403", "404", "409", "422"} <= set(pause["responses"])
    assert "An agent acts on itself only." in pause["description"]


async def test_routes_outside_the_table_take_the_token_from_the_header_or_the_query(
    api: ApiHarness,
) -> None:
    """The wallboard's WebSocket cannot send headers: ``?token=`` works there; refusals are
    aiohttp's HTTP errors with the API's JSON body."""
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from ivr_engine.http.api.endpoint import STAFF

    check = api.server.guard.authorizer(STAFF)

    async def page(request: web.Request) -> web.Response:
        principal = await check(request)
        return web.json_response({"name": principal.name})

    app = web.Application()
    app.router.add_get("/watch", page)
    async with TestClient(TestServer(app)) as client:
        ok = await client.get("/watch", params={"token": api.tokens["supervisor"]})
        assert (ok.status, await ok.json()) == (200, {"name": "wang"})
        ok = await client.get("/watch", headers=api.auth("admin"))
        assert ok.status == 200
        refused = await client.get("/watch", params={"token": api.tokens["8001"]})
        assert refused.status == 403
        assert (await refused.json())["error"] == "forbidden"
        missing = await client.get("/watch")
        assert missing.status == 401
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        bad = await client.get("/watch", params={"token": "ivr_nope.nope"})
        assert bad.status == 401
