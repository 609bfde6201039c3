"""The ``ivr-engine`` command: run the engine and look after its data."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

import click

from ivr_engine.settings import Settings, SettingsError, load_settings


def _settings(path: str | None) -> Settings:
    try:
        return load_settings(path)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.option(
    "--settings",
    "settings_path",
    envvar="IVR_ENGINE_SETTINGS",
    default=None,
    help="Settings file (default config/engine.yaml).",
)
@click.pass_context
def main(ctx: click.Context, settings_path: str | None) -> None:
    """IVR and ACD engine for Asterisk."""
    ctx.obj = settings_path


@main.command()
@click.option("--log-level", default="INFO", show_default=True)
@click.pass_obj
def run(settings_path: str | None, log_level: str) -> None:
    """Serve calls until Ctrl-C or SIGTERM."""
    from ivr_engine.app import Engine
    from ivr_engine.menus.loader import MenuError
    from ivr_engine.privacy import install_log_masking

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = _settings(settings_path)
    install_log_masking(settings)  # numbers masked, secrets blanked, in every log line
    try:
        asyncio.run(Engine(settings).run())
    except MenuError as exc:
        raise click.ClickException(f"the menus have problems, not starting:\n{exc}") from exc


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@click.pass_obj
def calls(settings_path: str | None, as_json: bool, limit: int) -> None:
    """Show the newest calls from the journal."""
    from ivr_engine.journal.query import recent_calls

    records = asyncio.run(recent_calls(_settings(settings_path).database_url(), limit))
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    for rec in records:
        click.echo(
            f"{rec['started_at']}  {rec['caller']:>15} -> {rec['dialled']:<6} "
            f"keys={rec['keys'] or '-':<8} {rec['outcome'] or 'in progress'} "
            f"(hung up by {rec['hangup_side'] or '-'})"
        )


@main.group()
def prompts() -> None:
    """The prompt catalogue."""


@prompts.command("build")
def prompts_build() -> None:
    """Render every prompt into prompts/sounds/<lang>/ (espeak-ng and sox)."""
    from ivr_engine.prompts.build import BuildError, build_all
    from ivr_engine.prompts.catalogue import CatalogueError, load_catalogue

    try:
        catalogue = load_catalogue()
        counts: dict[str, int] = {}
        with click.progressbar(
            build_all(catalogue), length=len(catalogue), label="Building prompts"
        ) as bar:
            for built in bar:
                counts[built.source] = counts.get(built.source, 0) + 1
    except (BuildError, CatalogueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))


@main.command("asterisk-conf")
@click.argument("conf_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Only check that CONF_DIR agrees with the settings.")
@click.pass_obj
def asterisk_conf(settings_path: str | None, conf_dir: Path, check: bool) -> None:
    """Write (or check) manager.conf and ivr_globals.conf in an Asterisk config directory."""
    from ivr_engine.asterisk_conf import (
        check_asterisk_conf,
        render_globals_conf,
        render_manager_conf,
    )

    settings = _settings(settings_path)
    if not check:
        conf_dir.mkdir(parents=True, exist_ok=True)
        (conf_dir / "manager.conf").write_text(render_manager_conf(settings))
        (conf_dir / "manager.conf").chmod(0o600)
        (conf_dir / "ivr_globals.conf").write_text(render_globals_conf(settings))
    problems = check_asterisk_conf(conf_dir, settings)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{conf_dir}: agrees with {settings.source}")


# A simulated wait longer than a day would print announcements without end.
MAX_AGENT_AFTER_S = 86400.0


@main.command()
@click.option("--dnis", default="10086", show_default=True, help="The number dialled.")
@click.option("--caller", default="13900139000", show_default=True, help="The calling number.")
@click.option(
    "--keys",
    default=None,
    help="Keys in order, comma separated: 1, 123456 (digits for a collect), "
    "- (silence). Without it, the keys are asked for.",
)
@click.option("--at", "at", default=None, help="Pretend it is this ISO time (weekend, holidays).")
@click.option(
    "--agent-after",
    "agent_after",
    type=click.FloatRange(min=0, max=MAX_AGENT_AFTER_S),
    default=20.0,
    show_default=True,
    metavar="SECONDS",
    help="A queue node's call waits this long (simulated, at most a day) before the agents "
    "of the ACD configuration are free; the ACD's routing picks who answers, and the menu goes on "
    "at after_agent. Announcements, escalation and the queue's max-wait action (overflow, "
    "a callback offer answered with --keys, an announcement) come first if they are due.",
)
@click.pass_obj
def simulate(
    settings_path: str | None,
    dnis: str,
    caller: str,
    keys: str | None,
    at: str | None,
    agent_after: float,
) -> None:
    """Walk a menu in the terminal, without Asterisk.

    Queue nodes wait in their queue of the ACD configuration on a simulated clock (no time
    really passes, and no ACD database is touched), unless acd.enabled is false.
    """
    from datetime import datetime

    from ivr_engine.data.backend import BackendError
    from ivr_engine.menus.loader import MenuError
    from ivr_engine.simulator.walk import simulate as walk

    settings = _settings(settings_path)
    moment = datetime.fromisoformat(at) if at else None
    script = [k.strip() for k in keys.split(",") if k.strip()] if keys is not None else None
    try:
        asyncio.run(walk(settings, dnis, caller, script, click.echo, moment, agent_after))
    except (MenuError, BackendError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@click.option(
    "--token",
    envvar="IVR_ENGINE_TOKEN",
    default=None,
    help="An admin token of the operations API (default: $IVR_ENGINE_TOKEN).",
)
@click.pass_obj
def reload(settings_path: str | None, token: str | None) -> None:
    """Ask the running engine to load the menus again (new calls get a valid new version)."""
    import urllib.error
    import urllib.request

    if not token:
        raise click.ClickException(
            "an admin token is needed: --token TOKEN or IVR_ENGINE_TOKEN"
            " (ivr-engine token create NAME --role admin makes one)"
        )
    http = _settings(settings_path).http
    request = urllib.request.Request(
        f"http://{http.host}:{http.port}/api/v1/menus/reload",
        method="POST",
        headers={"Authorization": f"Bearer {token.strip()}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            body = json.load(exc)
        except ValueError:
            body = {}
        if exc.code == 409:
            for problem in body.get("problems", []):
                click.echo(problem, err=True)
            raise click.ClickException(f"refused; version {body.get('version')} stays") from exc
        detail = body.get("detail", exc.reason)
        raise click.ClickException(f"the engine answered {exc.code}: {detail}") from exc
    except OSError as exc:
        raise click.ClickException(
            f"engine not reachable at {http.host}:{http.port}: {exc}"
        ) from exc
    state = "now live" if body["changed"] else "unchanged"
    click.echo(f"menus version {body['version']} {state}")


def _register() -> None:
    from ivr_engine.cli.access import token
    from ivr_engine.cli.acd import acd
    from ivr_engine.cli.data import data
    from ivr_engine.cli.db import db
    from ivr_engine.cli.menus import check
    from ivr_engine.cli.reports import report

    main.add_command(acd)
    main.add_command(data)
    main.add_command(db)
    main.add_command(check)
    main.add_command(report)
    main.add_command(token)


_register()
