"""What every table definition of the project uses: the UTC column type, the constraint
naming convention, and a CHECK over fixed values.

Times are stored as UTC. PostgreSQL keeps them in ``timestamptz``; SQLite has no time zone
type, so ``UTCDateTime`` writes UTC and re-attaches UTC on read, which also keeps SQLite's
text timestamps in a sortable, fixed-width form.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, TypeDecorator

from ground.clock import as_utc

# Constraint names that are the same on SQLite and PostgreSQL, so migrations can name them.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for ``column IN (...)`` over fixed identifiers (no user input)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware DateTime that always comes back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: stored as UTC text without an offset
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
