"""``ivr-engine token ...``: make, list and revoke the operations API's tokens.

    ivr-engine token create ops-desk --role admin
    ivr-engine token create li-na --role agent --agent 8001 --days 90
    ivr-engine token list
    ivr-engine token revoke k3m9x2a7b4cd

``create`` prints the token once; only its SHA-256 digest is stored, so a lost token is
revoked and replaced, never recovered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from ground.clock import utc_now
from ground.database import make_engine
from ivr_engine.access.roles import Role
from ivr_engine.access.tokens import TokenError, TokenInfo, TokenStore
from ivr_engine.db_schema import upgrade
from ivr_engine.settings import SettingsError, load_settings

T = TypeVar("T")


def _run(ctx: click.Context, work: Callable[[TokenStore], Awaitable[T]]) -> T:
    async def main() -> T:
        url = load_settings(ctx.obj).database_url()
        await upgrade(url)
        engine = make_engine(url, connect_timeout=5, command_timeout=10)
        try:
            return await work(TokenStore(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except (SettingsError, TokenError) as exc:
        raise click.ClickException(str(exc)) from exc
    except (SQLAlchemyError, OSError) as exc:
        raise click.ClickException(f"database error: {type(exc).__name__}: {exc}") from exc


def _describe(info: TokenInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "role": info.role.value,
        "agent": info.agent_id,
        "created_at": info.created_at.isoformat(),
        "expires_at": info.expires_at.isoformat() if info.expires_at else None,
        "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None,
    }


@click.group("token")
def token() -> None:
    """Tokens of the operations API."""


@token.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--agent", "agent_id", default=None, help="The agent id (agent tokens only).")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="Expires after N days.")
@click.pass_context
def create(
    ctx: click.Context, name: str, role: str, agent_id: str | None, days: int | None
) -> None:
    """Make a token; it is printed once, keep it safe."""
    expires = utc_now() + timedelta(days=days) if days else None

    async def work(store: TokenStore) -> tuple[TokenInfo, str]:
        return await store.create(name, Role(role), agent_id=agent_id, expires_at=expires)

    info, secret = _run(ctx, work)
    click.echo(f"token {info.id} for {info.name} ({info.role.value}); shown this once:", err=True)
    click.echo(secret)


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_tokens(ctx: click.Context, as_json: bool) -> None:
    """Every token: id, name, role, agent, and whether it is revoked or expired."""
    rows = [_describe(info) for info in _run(ctx, lambda store: store.list())]
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    now = utc_now().isoformat()
    for row in rows:
        expired = row["expires_at"] is not None and row["expires_at"] <= now
        status = "revoked" if row["revoked_at"] else "expired" if expired else "live"
        click.echo(
            f"{row['id']}  {row['role']:<10} {row['agent'] or '-':<6} {status:<8} {row['name']}"
        )


@token.command("revoke")
@click.argument("token_id")
@click.pass_context
def revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke a token now; requests with it are refused from then on."""
    if not _run(ctx, lambda store: store.revoke(token_id)):
        raise click.ClickException(f"no live token {token_id}")
    click.echo(f"token {token_id} revoked")
