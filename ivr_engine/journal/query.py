"""Read-only access for the CLI (``ivr-engine calls``)."""

from __future__ import annotations

import asyncio
from typing import Any

from ground.database import sqlite_file
from ivr_engine.journal.store import JournalStore, MissingTables


async def recent_calls(url: str, limit: int) -> list[dict[str, Any]]:
    """The ``limit`` newest calls (``CallRecord.to_dict()`` form), newest first.

    Does not create anything: a SQLite journal that does not exist yet, or a database not
    migrated yet, reads as empty (so running the CLI as another user cannot leave a
    database file the engine can't use).
    """
    path = sqlite_file(url)
    if path is not None and not await asyncio.to_thread(path.exists):
        return []
    try:
        store = await JournalStore.connect(url)
    except MissingTables:
        return []
    try:
        return await store.recent(limit)
    finally:
        await store.close()
