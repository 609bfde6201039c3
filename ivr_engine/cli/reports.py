"""``ivr-engine report NAME``: a report from the engine's database, in the terminal or a file.

::

    ivr-engine report queues --from 2025-06-01 --to 2025-06-30 --interval day
    ivr-engine report agents --from 2025-06-15 --agent 8001 --format csv --out agents.csv
    ivr-engine report funnel --format png --out funnel.png

Reads only: it never creates or migrates the database.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ground.database import make_engine, sqlite_file
from ivr_engine.reports.params import ReportError
from ivr_engine.reports.registry import REPORTS, ReportSpec
from ivr_engine.reports.report import Report
from ivr_engine.settings import Settings, SettingsError, load_settings

__all__ = ["report"]

_OPTIONS = {"start": "--from", "end": "--to"}


async def _build(url: str, spec: ReportSpec, params: BaseModel, settings: Settings) -> Report:
    engine = make_engine(url, connect_timeout=10.0, command_timeout=300.0)
    try:
        return await spec.build(engine, params, settings)
    finally:
        await engine.dispose()


def _problem(name: str, exc: ValidationError) -> str:
    reasons = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:
            reasons.append(message)
            continue
        field = str(error["loc"][0])
        option = _OPTIONS.get(field, f"--{field}")
        if error["type"] == "extra_forbidden":
            reasons.append(f"{option} does not apply to the {name} report")
        else:
            reasons.append(f"{option}: {message}")
    return "; ".join(reasons)


@click.command("report")
@click.argument("name", type=click.Choice(list(REPORTS)))
@click.option("--from", "start", default=None, help="First day (YYYY-MM-DD) or moment (ISO).")
@click.option("--to", "end", default=None, help="Last day (included), or the moment it ends.")
@click.option("--interval", type=click.Choice(["15", "30", "60", "day"]), default=None)
@click.option("--queue", default=None, help="Only this queue (queues, survey).")
@click.option("--agent", default=None, help="Only this agent (agents).")
@click.option("--top", type=click.IntRange(1, 10000), default=None, help="Rows (repeat-callers).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "png"]),
    default="table",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (needed for png).",
)
@click.pass_context
def report(
    ctx: click.Context,
    name: str,
    start: str | None,
    end: str | None,
    interval: str | None,
    queue: str | None,
    agent: str | None,
    top: int | None,
    fmt: str,
    out: Path | None,
) -> None:
    """Print or save a report (queues, agents, ivr, funnel, repeat-callers, fluctuation,
    survey); dates are the hotline's days, both ends included. See docs/reports.md."""
    if fmt == "png" and out is None:
        raise click.UsageError("--format png needs --out FILE")
    settings_path = ctx.find_root().obj
    try:
        settings = load_settings(settings_path if isinstance(settings_path, str) else None)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    spec = REPORTS[name]
    given = {"start": start, "end": end, "interval": interval, "queue": queue, "agent": agent}
    query: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if top is not None:
        query["top"] = top
    try:
        params = spec.params.model_validate(query)
    except ValidationError as exc:
        raise click.UsageError(_problem(name, exc)) from exc
    url = settings.database_url()
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise click.ClickException(f"no database at {path} yet (the engine creates it)")
    try:
        result = asyncio.run(_build(url, spec, params, settings))
    except ReportError as exc:
        raise click.UsageError(str(exc)) from exc
    except (SQLAlchemyError, OSError) as exc:
        raise click.ClickException(
            f"database error: {type(exc).__name__}: {exc}"
            " (is the schema up to date? ivr-engine db upgrade)"
        ) from exc
    _write(result, fmt, out)


def _write(result: Report, fmt: str, out: Path | None) -> None:
    if fmt == "png":
        image = result.to_png()
        if image is None:
            raise click.ClickException(f"the {result.name} report has no chart")
        assert out is not None
        out.write_bytes(image)
        click.echo(f"wrote {out}")
        return
    if fmt == "csv":
        text = result.to_csv()
    elif fmt == "json":
        text = json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n"
    else:
        text = result.to_table()
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
