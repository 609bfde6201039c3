"""Where the change feed stands: read it before reading the rows changed since last time.

Triggers mark every insert and update of ``agents`` and ``waiting_calls`` in ``changed``
(revision 0005). :func:`feed_position` gives the value from which the next read must start
so that nothing committed after this moment is missed:

- PostgreSQL: the oldest transaction id still running (``pg_snapshot_xmin``). A row marked
  by a transaction that has not committed yet carries an id at least that large, so
  reading ``changed >= position`` next time finds it once it commits, whatever order
  transactions commit in. Rows read twice are harmless: applying a row is idempotent.
- SQLite: one writer at a time, and the reader holds the write lock (the ACD's
  transactions begin immediately), so the next mark is the counter plus one.

Deleted rows leave no mark: the instance that deletes a row knows it, and any other finds
out when it tries to reserve the row. Skills are configuration: they change rarely, and
then a counter moves on (:func:`skills_changed`), read with the position.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from acd.store.tables import SKILLS_COUNTER, ChangeCounterRow

__all__ = ["FeedPosition", "feed_position", "skills_changed"]

_POSITION = {
    "postgresql": text(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,"
        f" (SELECT value FROM acd_changes WHERE id = {SKILLS_COUNTER})"
    ),
    "sqlite": text(
        "SELECT (SELECT value FROM acd_changes WHERE id = 1) + 1,"
        f" (SELECT value FROM acd_changes WHERE id = {SKILLS_COUNTER})"
    ),
}


@dataclass(frozen=True)
class FeedPosition:
    marks: int  # the ``changed`` value the next read starts from
    skills: int  # the skills counter: read every agent's skills again when it moved


async def feed_position(conn: AsyncConnection) -> FeedPosition:
    """Where the feed stands now (see above), in one query."""
    marks, skills = (await conn.execute(_POSITION[conn.dialect.name])).one()
    return FeedPosition(int(marks), int(skills))


def skills_changed(conn: Connection) -> None:
    """Agents' skills were changed in this transaction: instances read them again."""
    conn.execute(
        update(ChangeCounterRow)
        .where(ChangeCounterRow.id == SKILLS_COUNTER)
        .values(value=ChangeCounterRow.value + 1)
    )
