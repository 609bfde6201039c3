"""``ivr-engine db ...``: the database schema, kept by Alembic migrations.

::

    ivr-engine db upgrade            migrate the engine's database(s) to the newest revision
    ivr-engine db current            the revision of each database, and the newest one
    ivr-engine db check              exit 1 if a migrated database and the models disagree
    ivr-engine db revision -m MSG    (developers) write versions/NNNN_<msg>.py by autogenerate
    ivr-engine db alembic ARGS...    any other Alembic command, e.g. ``history``,
                                     ``downgrade 0001``, ``upgrade head --sql``

No alembic.ini: the configuration is made in ``ivr_engine.db_schema.alembic_config``, the
URLs come from the engine's settings (``--settings``, ``IVR_ENGINE_DATABASE__URL``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from ground.database import sqlite_file
from ivr_engine import db_schema
from ivr_engine.services import database_urls
from ivr_engine.settings import SettingsError, load_settings

T = TypeVar("T")


def _urls(ctx: click.Context) -> list[str]:
    settings_path = ctx.find_root().obj  # the main group keeps its --settings path here
    try:
        settings = load_settings(settings_path if isinstance(settings_path, str) else None)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    return database_urls(settings)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _run(url: str, work: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(work)
    except (SQLAlchemyError, OSError, db_schema.MigrationError) as exc:
        raise click.ClickException(f"{_shown(url)}: {type(exc).__name__}: {exc}") from exc


@click.group("db")
def db() -> None:
    """The database schema: migrations (Alembic)."""


@db.command("upgrade")
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Migrate the database(s) to the newest revision (the engine does this at start)."""
    for url in _urls(ctx):
        before = _run(url, db_schema.current(url))
        _run(url, db_schema.upgrade(url))
        after = _run(url, db_schema.current(url))
        if before == after:
            click.echo(f"{_shown(url)}: already at {after}")
        else:
            click.echo(f"{_shown(url)}: {before or 'no revision'} -> {after}")


@db.command("current")
@click.pass_context
def current(ctx: click.Context) -> None:
    """Show the revision each database is at."""
    newest = db_schema.head()
    for url in _urls(ctx):
        revision = _run(url, db_schema.current(url))
        state = "up to date" if revision == newest else f"behind: newest is {newest}"
        click.echo(f"{_shown(url)}: {revision or 'no revision'} ({state})")


@db.command("check")
@click.pass_context
def check(ctx: click.Context) -> None:
    """Fail if a migrated database and the models disagree (a migration is missing)."""
    failed = False
    for url in _urls(ctx):
        found = _run(url, db_schema.differences(url))
        for diff in found:
            click.echo(f"{_shown(url)}: {diff}", err=True)
        failed = failed or bool(found)
        click.echo(f"{_shown(url)}: {'differs from' if found else 'agrees with'} the models")
    if failed:
        raise click.ClickException("run 'ivr-engine db revision -m ...' and review the result")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
def revision(message: str) -> None:
    """Write a new revision from the models' changes (review it before committing)."""
    path = _run("sqlite+aiosqlite://", db_schema.revision(message))
    click.echo(f"wrote {path}: check it, also on PostgreSQL (pytest tests/db)")


@db.command(
    "alembic",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def alembic(ctx: click.Context, args: tuple[str, ...]) -> None:
    """Run an Alembic command on the engine's database (``alembic --help`` lists them)."""
    from alembic.config import CommandLine

    command_line = CommandLine(prog="ivr-engine db alembic")
    options = command_line.parser.parse_args(list(args))
    if not hasattr(options, "cmd"):
        command_line.parser.error("too few arguments")
    url = _urls(ctx)[0]
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = db_schema.alembic_config(url=url)
    config.cmd_opts = options
    command_line.run_cmd(config, options)
