"""``ivr-engine check``: check the menu files before they go live."""

from __future__ import annotations

from pathlib import Path

import click

from ivr_engine.menus.loader import MENUS_DIR, MenuError, load_menus, prompt_ids_by_language
from ivr_engine.prompts.catalogue import CatalogueError, load_catalogue


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--prompts/--no-prompts",
    default=True,
    show_default=True,
    help="Check that every prompt is in the prompt catalogue, in the file's language.",
)
def check(paths: tuple[Path, ...], prompts: bool) -> None:
    """Check menu files (PATHS: files or directories, default config/menus).

    Exits 0 and prints a summary when the files would load; else prints one
    FILE:LINE: reason per problem to stderr and exits 1.
    """
    ids = None
    if prompts:
        try:
            ids = prompt_ids_by_language(load_catalogue())
        except CatalogueError as exc:
            click.echo(str(exc), err=True)
            raise SystemExit(1) from exc
    try:
        menus = load_menus(list(paths) or [_default_dir()], ids)
    except MenuError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = exc.total
        click.echo(
            f"{count} problem{'s' if count != 1 else ''}: the menus were not loaded", err=True
        )
        raise SystemExit(1) from exc
    entries = ", ".join(f"{dnis} -> {node}" for dnis, node in sorted(menus.entries.items()))
    click.echo(
        f"OK: {len(menus.files)} files, {len(menus.nodes)} nodes, entries {entries or 'none'}"
        f" (version {menus.version})"
    )


def _default_dir() -> Path:
    """config/menus of the project, relative to the current directory when inside it."""
    try:
        return MENUS_DIR.relative_to(Path.cwd())
    except ValueError:
        return MENUS_DIR
