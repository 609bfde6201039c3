"""The CRM's bearer token comes from the settings (``backend.token``, in production from
``IVR_ENGINE_BACKEND__TOKEN``), is sent on every request, and is in no error or log line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ivr_engine.data.backend import BackendError
from ivr_engine.services import open_services
from ivr_engine.settings import load_settings

TOKEN = "Crm-Bearer-Token-6602"


@pytest.fixture
async def crm() -> AsyncIterator[tuple[TestServer, list[str]]]:
    seen: list[str] = []

    async def subscriber(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        if request.match_info["number"] == "13800138000":
            return web.json_response({"brand": "gotone", "status": "active"})
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/subscribers/{number}", subscriber)
    server = TestServer(app)
    await server.start_server()
    try:
        yield server, seen
    finally:
        await server.close()


async def test_the_token_is_sent_and_never_shown(
    crm: tuple[TestServer, list[str]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server, seen = crm
    caplog.set_level(logging.DEBUG)
    settings = load_settings(
        environ={
            "IVR_ENGINE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}",
            "IVR_ENGINE_BACKEND__KIND": "http",
            "IVR_ENGINE_BACKEND__URL": str(server.make_url("")),
            "IVR_ENGINE_BACKEND__TOKEN": TOKEN,
            "IVR_ENGINE_BACKEND__RETRIES": "0",
        }
    )
    assert TOKEN not in repr(settings) and TOKEN not in settings.model_dump_json()
    async with open_services(settings) as services:
        assert (await services.backend.profile("13800138000")).known
        with pytest.raises(BackendError) as failed:
            await services.backend.profile("13900139000")
    assert seen == [f"Bearer {TOKEN}"] * 2
    assert TOKEN not in str(failed.value)
    assert TOKEN not in caplog.text


async def test_no_token_no_header(crm: tuple[TestServer, list[str]], tmp_path: Path) -> None:
    server, seen = crm
    settings = load_settings(
        environ={
            "IVR_ENGINE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}",
            "IVR_ENGINE_BACKEND__KIND": "http",
            "IVR_ENGINE_BACKEND__URL": str(server.make_url("")),
        }
    )
    async with open_services(settings) as services:
        await services.backend.profile("13800138000")
    assert seen == [""]
