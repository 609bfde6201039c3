"""``ivr-engine acd ...``: see and change agents from the shell, through the ACD's service
layer (the same validated, logged transitions as feature codes), on the engine's database.

    ivr-engine acd agents                  every agent: state, since, pause reason, calls
    ivr-engine acd agent 8001 log_in       log in (log_out, pause, ready, ...)
    ivr-engine acd agent 8001 pause --reason lunch
    ivr-engine acd waiting                 calls waiting or offered, oldest first
    ivr-engine acd priority general 5      every call waiting in general gets priority 5
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from acd.agents import AgentEvent, PauseReasonError, TransitionError, utc_datetime
from acd.config import AcdConfigError, load_config
from acd.service.acd import Acd
from acd.store.agent_rows import UnknownAgent
from acd.store.sync import sync_config
from ivr_engine.db_schema import upgrade
from ivr_engine.settings import SettingsError, load_settings


async def _with_acd(settings_path: str | None, work: Any) -> Any:
    settings = load_settings(settings_path)
    url = settings.database_url()
    config = load_config(settings.path(settings.acd.config))
    await upgrade(url)
    await sync_config(url, config)
    acd = Acd(url, config, "cli")
    try:
        return await work(acd)
    finally:
        await acd.stop()


def _run(ctx: click.Context, work: Any) -> Any:
    try:
        return asyncio.run(_with_acd(ctx.obj, work))
    except (SettingsError, AcdConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    except (SQLAlchemyError, OSError) as exc:
        raise click.ClickException(f"database error: {type(exc).__name__}: {exc}") from exc


@click.group("acd")
def acd() -> None:
    """The ACD: agents and waiting calls."""


@acd.command("agents")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def agents(ctx: click.Context, as_json: bool) -> None:
    """Every agent with its state."""

    async def work(service: Acd) -> list[dict[str, Any]]:
        return [
            {
                "id": r.status.agent_id,
                "state": r.status.state.value,
                "since": utc_datetime(r.status.since).isoformat(),
                "pause_reason": r.status.pause_reason,
                "pending": None if r.status.pending is None else r.status.pending.kind.value,
                "calls_today": r.status.calls_today,
                "current_call": r.status.current_call,
            }
            for r in await service.agents()
        ]

    rows = _run(ctx, work)
    if as_json:
        click.echo(json.dumps(rows, indent=1))
        return
    for row in rows:
        extra = f" ({row['pause_reason']})" if row["pause_reason"] else ""
        since, calls = row["since"][:19], row["calls_today"]
        click.echo(f"{row['id']:<8} {row['state']:<11}{extra:<14} since {since}  calls {calls}")


@acd.command("agent")
@click.argument("agent_id")
@click.argument("event", type=click.Choice([e.value for e in AgentEvent] + ["resume"]))
@click.option("--reason", default=None, help="Pause reason (pause, supervisor_force_pause).")
@click.pass_context
def agent(ctx: click.Context, agent_id: str, event: str, reason: str | None) -> None:
    """Apply one event to an agent (validated and logged)."""

    async def work(service: Acd) -> str:
        try:
            change = await service.agent_event(agent_id, event, reason=reason)
        except (TransitionError, PauseReasonError, UnknownAgent) as exc:
            raise click.ClickException(str(exc)) from exc
        noted = " (after the current call)" if change.from_state == change.to_state else ""
        return f"agent {agent_id}: {change.from_state} -> {change.to_state}{noted}"

    click.echo(_run(ctx, work))


@acd.command("waiting")
@click.pass_context
def waiting(ctx: click.Context) -> None:
    """Calls waiting for an agent, ringing one, or owed a callback."""

    async def work(service: Acd) -> list[str]:
        return [
            f"{r.id}  {r.queue:<16} {r.state:<9} {r.kind:<8} priority {r.call.priority}"
            f"  since {utc_datetime(r.call.entered_at).isoformat()[:19]}"
            f"  agent {r.reserved_agent or '-'}  {r.callback_number or r.caller}"
            for r in await service.waiting()
        ]

    for line in _run(ctx, work):
        click.echo(line)


@acd.command("priority")
@click.argument("queue")
@click.argument("priority", type=click.IntRange(0, 100))
@click.pass_context
def priority(ctx: click.Context, queue: str, priority: int) -> None:
    """Give every call waiting in QUEUE this priority (new calls keep the configured one)."""

    async def work(service: Acd) -> int:
        if queue not in service.config.queues:
            raise click.ClickException(f"no queue {queue!r} in {service.config.source}")
        return await service.set_priority(queue, priority)

    changed = _run(ctx, work)
    click.echo(f"{changed} waiting call(s) in {queue} now have priority {priority}")
