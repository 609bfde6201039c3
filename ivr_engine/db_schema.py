"""The engine's database schema, kept by the migrations in ``ivr_engine/migrations``.

- ``await upgrade(url)``: bring the database to the newest revision. Safe on every start
  and when several engine instances start together: it runs in one transaction holding
  the schema lock (``exclusive_transaction``: an advisory lock on PostgreSQL, the write
  lock on SQLite), so a second instance waits, then finds nothing left to do. A database
  that ``create_all`` made before migrations existed (tables, no ``alembic_version``) is
  adopted as revision ``0001``: its tables and rows are kept, missing ones created.
- ``await current(url)``: the database's revision (None: none recorded, or no database).
- ``head()``: the newest revision the package ships.
- ``await differences(url)``: where the database and the models disagree (empty: none).
- ``await revision(message)``: write a new revision file by autogenerate, comparing the
  models with a scratch SQLite database upgraded to head.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection, make_url

from ground.database import exclusive_transaction, make_engine, sqlite_file
from ground.paths import PROJECT_ROOT
from ivr_engine.migrations import MIGRATIONS_DIR
from ivr_engine.migrations.target import BASELINE, BASELINE_TABLES, context_options

log = logging.getLogger(__name__)
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # 6 lines every start

VERSION_TABLE = "alembic_version"


class MigrationError(Exception):
    """A migration left the database inconsistent (it was rolled back)."""


def alembic_config(*, url: str | None = None, connection: Connection | None = None) -> Config:
    """Alembic's configuration without an ini file; ``env.py`` takes the URL or connection."""
    cfg = Config(stdout=sys.stdout)  # the default is the stdout of when alembic was imported
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("truncate_slug_length", "40")
    if url is not None:
        cfg.attributes["url"] = url
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:
        raise MigrationError("the package ships no migrations")
    return revision


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def upgrade(url: str, *, timeout: float = 600.0) -> None:
    """Migrate to head (creating the SQLite file and its directory if needed)."""
    path = sqlite_file(url)
    if path is not None:
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    async with exclusive_transaction(url, timeout=timeout, foreign_keys=False) as conn:
        await conn.run_sync(_upgrade, _shown(url))


def _upgrade(conn: Connection, shown: str) -> None:
    tables = set(inspect(conn).get_table_names())
    cfg = alembic_config(connection=conn)
    cfg.attributes["transactional_ddl"] = True  # exclusive_transaction: one transaction
    if VERSION_TABLE not in tables and tables & BASELINE_TABLES:
        log.warning(
            "%s has tables from before migrations: recording it as revision %s", shown, BASELINE
        )
        command.upgrade(cfg, BASELINE)  # 0001 keeps existing tables, creates missing ones
    command.upgrade(cfg, "head")
    if conn.dialect.name == "sqlite":  # foreign keys were off for table rebuilds
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise MigrationError(f"migrating {shown} broke foreign keys: {broken[:5]}")


async def current(url: str, *, timeout: float = 30.0) -> str | None:
    """The revision recorded in the database; None if none is (or the SQLite file is absent)."""
    path = sqlite_file(url)
    if path is not None and not await asyncio.to_thread(path.exists):
        return None
    engine = make_engine(url, connect_timeout=timeout, command_timeout=timeout)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def differences(url: str, *, timeout: float = 30.0) -> list[Any]:
    """Alembic's diff of the database against the models; empty when they agree."""
    engine = make_engine(url, connect_timeout=timeout, command_timeout=timeout)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_differences)
    finally:
        await engine.dispose()


def _differences(conn: Connection) -> list[Any]:
    options = context_options(conn.dialect.name)
    context = MigrationContext.configure(conn, opts=options)
    # Alembic takes a sequence of MetaData here (AutogenContext), though annotated MetaData.
    diffs: list[Any] = compare_metadata(context, cast(MetaData, options["target_metadata"]))
    return diffs


async def revision(message: str) -> Path:
    """Write ``versions/NNNN_<slug>.py`` from the models' changes since head; its path."""
    with tempfile.TemporaryDirectory(prefix="ivr-engine-revision-") as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'head.db'}"
        await upgrade(url)
        engine = make_engine(url, connect_timeout=10.0, command_timeout=60.0)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(_autogenerate, message)
        finally:
            await engine.dispose()


def _autogenerate(conn: Connection, message: str) -> Path:
    cfg = alembic_config(connection=conn)
    _format_with_ruff(cfg)
    rev_id = f"{int(head()) + 1:04d}"
    written = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
    if not isinstance(written, Script):
        raise MigrationError(f"alembic wrote no single revision: {written!r}")
    return Path(written.path)


def _format_with_ruff(cfg: Config) -> None:
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        return
    hooks = {"ruff_fix": "check --fix --exit-zero", "ruff_format": "format"}
    cfg.set_section_option("post_write_hooks", "hooks", ", ".join(hooks))
    for name, options in hooks.items():
        cfg.set_section_option("post_write_hooks", f"{name}.type", "exec")
        cfg.set_section_option("post_write_hooks", f"{name}.executable", str(ruff))
        cfg.set_section_option(
            "post_write_hooks", f"{name}.options", f"{options} REVISION_SCRIPT_FILENAME"
        )
        cfg.set_section_option("post_write_hooks", f"{name}.cwd", str(PROJECT_ROOT))
