"""``ivr-engine data ...``: look after the subscriber data (the lead registers the group)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from ivr_engine.data.backend import BackendError
from ivr_engine.data.demo import DEFAULT_DEMO_FILE, load_demo
from ivr_engine.db_schema import upgrade
from ivr_engine.settings import SettingsError, load_settings


@click.group("data")
def data() -> None:
    """Subscriber data: demo subscribers, blacklist, top-up cards."""


async def _migrate_and_load(url: str, path: Path) -> int:
    try:
        await upgrade(url)
    except (SQLAlchemyError, OSError) as exc:
        raise BackendError(f"database error (upgrade): {type(exc).__name__}") from exc
    return await load_demo(url, path)


@data.command("load-demo")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_DEMO_FILE,
    show_default=True,
    help="Demo data file.",
)
@click.pass_context
def demo_load(ctx: click.Context, path: Path) -> None:
    """Load the demo subscribers into the engine's database (re-running resets them)."""
    settings_path = ctx.find_root().obj  # the main group keeps its --settings path here
    try:
        settings = load_settings(settings_path if isinstance(settings_path, str) else None)
        url = settings.database_url()
        loaded = asyncio.run(_migrate_and_load(url, path))
    except (SettingsError, ValueError, BackendError) as exc:
        raise click.ClickException(str(exc)) from exc
    shown = make_url(url).render_as_string(hide_password=True)
    click.echo(f"loaded {loaded} demo subscribers from {path} into {shown}")
