"""Callbacks in the ACD: a waiting call can be a callback owed to a caller.

Revision 0003, after 0002. ``waiting_calls`` gains ``kind`` (caller or callback), the
number to call back, the attempts made so far and the earliest time of the next attempt.
A callback keeps the caller's place by age (``entered_at``) among the callers waiting.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("waiting_calls") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), server_default="caller", nullable=False)
        )
        batch.add_column(sa.Column("callback_number", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint(
            op.f("ck_waiting_calls_kind"), "kind IN ('caller', 'callback')"
        )


def downgrade() -> None:
    with op.batch_alter_table("waiting_calls") as batch:
        batch.drop_constraint("ck_waiting_calls_kind", type_="check")
        batch.drop_column("not_before")
        batch.drop_column("attempts")
        batch.drop_column("callback_number")
        batch.drop_column("kind")
