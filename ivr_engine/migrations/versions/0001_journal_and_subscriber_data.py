"""The call journal and the subscriber data, as create_all made them before migrations.

Revision 0001, the first. A database made by ``create_all`` before migrations existed may
hold some or all of these tables already (``db_schema.upgrade`` adopts it at 0001): each
table is created only if it is missing, so existing tables and their rows are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Integer on SQLite so the key is the rowid (autoincrement); 64-bit elsewhere.
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = sa.DateTime(timezone=True)


def _calls() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(), nullable=False),
        sa.Column("dialled", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("unique_id", sa.String(), nullable=False),
        sa.Column("started_at", _UTC, nullable=False),
        sa.Column("ended_at", _UTC, nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("hangup_side", sa.String(), nullable=True),
        sa.Column("keys", sa.Text(), nullable=False),
        sa.Column("instance", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("call_id"),
    )
    op.create_index("ix_calls_caller", "calls", ["caller"])
    op.create_index("ix_calls_started_at", "calls", ["started_at"])


def _call_steps() -> None:
    op.create_table(
        "call_steps",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.call_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "seq", name="uq_call_steps_call_seq"),
    )


def _subscribers() -> None:
    op.create_table(
        "subscribers",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("brand", sa.String(length=16), nullable=False),
        sa.Column("vip", sa.Boolean(), nullable=False),
        sa.Column("vip_level", sa.Integer(), nullable=False),
        sa.Column("arpu_fen", sa.BigInteger(), nullable=False),
        sa.Column("home_region", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("package", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=True),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("charges_fen", sa.BigInteger(), nullable=False),
        sa.Column("minutes_used", sa.Integer(), nullable=False),
        sa.Column("minutes_total", sa.Integer(), nullable=False),
        sa.Column("data_used_mb", sa.Integer(), nullable=False),
        sa.Column("data_total_mb", sa.Integer(), nullable=False),
        sa.Column("bill_month", sa.String(length=7), nullable=False),
        sa.Column("bill_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("bill_paid", sa.Boolean(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )


def _blacklist() -> None:
    op.create_table(
        "blacklist",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("expires_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("number"),
    )


def _topup_cards() -> None:
    op.create_table(
        "topup_cards",
        sa.Column("pin_hash", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("used_by", sa.String(length=32), nullable=True),
        sa.Column("used_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("pin_hash"),
    )


def _counters() -> None:
    op.create_table(
        "counters",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "key", "period"),
    )


_TABLES: tuple[tuple[str, Callable[[], None]], ...] = (  # referenced tables first
    ("calls", _calls),
    ("call_steps", _call_steps),
    ("subscribers", _subscribers),
    ("blacklist", _blacklist),
    ("topup_cards", _topup_cards),
    ("counters", _counters),
)


def upgrade() -> None:
    offline = op.get_context().as_sql  # --sql: no database to look at
    existing = set() if offline else set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in _TABLES:
        if name not in existing:
            create()


def downgrade() -> None:
    for name, _create in reversed(_TABLES):
        op.drop_table(name)
