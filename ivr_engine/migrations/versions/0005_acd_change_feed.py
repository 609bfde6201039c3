"""The ACD's change feed: each instance reads only the agents and calls changed since it
last looked, instead of every row on every matching pass.

Revision 0005, after 0004. ``agents`` and ``waiting_calls`` gain ``changed`` (indexed),
which triggers set on every insert and update, whoever the writer is:

- PostgreSQL: the id of the writing transaction (``pg_current_xact_id``). A reader that
  noted the oldest transaction still running when it last read (``pg_snapshot_xmin``)
  finds every row committed since by ``changed >= that id``, whatever the commit order.
- SQLite: one writer at a time; each marked row takes the next value of the counter
  ``acd_changes`` row 1, so ``changed >= the counter last seen + 1`` finds them.

``acd_changes`` row 2 counts changes of agents' skills (written by the configuration
sync), so instances read skills again only when they changed.

``waiting_calls`` also gets an index on (state, instance), for the offers each instance
hands to its own callers on every pass. SQLite rebuilds a table on most batch
alterations, which drops its triggers: a later migration that does so must create them
again (the statements are below).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"agents": "id", "waiting_calls": "call_id"}  # table -> primary key

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION acd_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$
"""


def _sqlite_mark(table: str, key: str) -> str:
    return (
        "UPDATE acd_changes SET value = value + 1 WHERE id = 1; "
        f"UPDATE {table} SET changed = (SELECT value FROM acd_changes WHERE id = 1) "
        f"WHERE {key} = NEW.{key};"
    )


def create_triggers(dialect: str) -> None:
    """The triggers that set ``changed`` (also for migrations that rebuild the tables)."""
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_changed BEFORE INSERT OR UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION acd_mark_changed()"
            )
        return
    for table, key in TABLES.items():
        op.execute(
            f"CREATE TRIGGER {table}_changed_insert AFTER INSERT ON {table} "
            f"BEGIN {_sqlite_mark(table, key)} END"
        )
        # The guard keeps the trigger's own update from marking the row again.
        op.execute(
            f"CREATE TRIGGER {table}_changed_update AFTER UPDATE ON {table} "
            f"WHEN NEW.changed IS OLD.changed BEGIN {_sqlite_mark(table, key)} END"
        )


def drop_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS acd_mark_changed()")
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changed_insert")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changed_update")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "acd_changes",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acd_changes")),
    )
    op.execute("INSERT INTO acd_changes (id, value) VALUES (1, 0), (2, 0)")
    for table in TABLES:
        # A plain ADD COLUMN, also on SQLite: no table rebuild.
        op.add_column(
            table, sa.Column("changed", sa.BigInteger(), server_default="0", nullable=False)
        )
        op.create_index(op.f(f"ix_{table}_changed"), table, ["changed"], unique=False)
    op.create_index(
        op.f("ix_waiting_calls_state_instance"),
        "waiting_calls",
        ["state", "instance"],
        unique=False,
    )
    create_triggers(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    drop_triggers(dialect)
    op.drop_index(op.f("ix_waiting_calls_state_instance"), table_name="waiting_calls")
    for table in TABLES:
        op.drop_index(op.f(f"ix_{table}_changed"), table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("changed")
    op.drop_table("acd_changes")
