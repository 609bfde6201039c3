"""POST /menus/reload: load the menu files again; a valid new version goes live for new
calls, an invalid edit is refused (409) with its problems and the running version stays."""

from __future__ import annotations

from aiohttp import web

from ivr_engine.menus.registry import MenuRegistry


def menu_routes(registry: MenuRegistry) -> list[web.RouteDef]:
    async def reload(_request: web.Request) -> web.Response:
        result = await registry.reload()
        body = {
            "changed": result.changed,
            "version": result.version,
            "problems": list(result.problems),
        }
        return web.json_response(body, status=409 if result.problems else 200)

    return [web.post("/menus/reload", reload)]
