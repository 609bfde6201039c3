"""Alembic's environment for the engine's database.

``ivr_engine.db_schema`` runs migrations on a connection it opened (holding the schema
lock) and passes it in ``config.attributes["connection"]``. Without one (``ivr-engine db
alembic ...``), an engine is made from ``config.attributes["url"]`` with ``make_engine``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection, make_url

from ground.database import make_engine
from ivr_engine.migrations.target import context_options

config = context.config


def _url() -> str:
    url = config.attributes.get("url")
    if not url:
        raise RuntimeError("no database URL: run migrations through ivr-engine db")
    return str(url)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        # True when db_schema runs it all in one transaction (BEGIN IMMEDIATE on SQLite).
        transactional_ddl=config.attributes.get("transactional_ddl"),
        **context_options(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_new_engine(url: str) -> None:
    engine = make_engine(url, connect_timeout=10.0, command_timeout=600.0)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def _run_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **context_options(make_url(url).get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
elif (connection := config.attributes.get("connection")) is not None:
    _run(connection)
else:
    asyncio.run(_run_on_new_engine(_url()))
