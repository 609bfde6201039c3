"""The ACD: agents, skills, queues, waiting calls, the agent state log and the queue log.

Revision 0002, after 0001. See ``acd/store/tables.py`` for what each table holds.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_UTC = sa.DateTime(timezone=True)
_JSON = sa.JSON(none_as_null=True)

AGENT_STATES = ("logged-out", "available", "reserved", "on-call", "wrap-up", "paused")
CALL_STATES = ("waiting", "offered", "answered", "abandoned", "overflowed", "callback")
QUEUE_EVENTS = (
    "enter",
    "offer",
    "answer",
    "abandon",
    "overflow",
    "callback-offered",
    "callback-made",
    "ring-no-answer",
    "complete",
)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _agents() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(), server_default="", nullable=False),
        sa.Column("endpoint", sa.String(), server_default="", nullable=False),
        sa.Column("state", sa.String(length=16), server_default="logged-out", nullable=False),
        sa.Column("state_since", _UTC, nullable=False),
        sa.Column("pause_reason", sa.String(length=32), nullable=True),
        sa.Column("pending", _JSON, nullable=True),
        sa.Column("missed_in_row", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_call_end", _UTC, nullable=True),
        sa.Column("calls_today", sa.Integer(), server_default="0", nullable=False),
        sa.Column("wrap_up_until", _UTC, nullable=True),
        sa.Column("current_call", sa.String(length=64), nullable=True),
        sa.Column("idle_since", _UTC, nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(_one_of("state", AGENT_STATES), name=op.f("ck_agents_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )


def _skills() -> None:
    op.create_table(
        "skills",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_skills")),
    )
    op.create_table(
        "agent_skills",
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("skill", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name=op.f("ck_agent_skills_level")),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_skills_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["skill"],
            ["skills.name"],
            name=op.f("fk_agent_skills_skill_skills"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", "skill", name=op.f("pk_agent_skills")),
    )
    op.create_index("ix_agent_skills_skill_level", "agent_skills", ["skill", "level"])


def _queues() -> None:
    op.create_table(
        "queues",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("requirements", _JSON, nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("match", sa.String(length=16), nullable=False),
        sa.Column("sl_target_pct", sa.Integer(), server_default="80", nullable=False),
        sa.Column("sl_threshold_s", sa.Float(), server_default="20", nullable=False),
        sa.Column("wrap_up_s", sa.Float(), server_default="0", nullable=False),
        sa.Column("max_wait_s", sa.Float(), nullable=True),
        sa.Column("on_max_wait", _JSON, nullable=True),
        sa.Column("escalation", _JSON, nullable=False),
        sa.Column("recording", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "(max_wait_s IS NULL) = (on_max_wait IS NULL)", name=op.f("ck_queues_max_wait")
        ),
        sa.CheckConstraint("sl_target_pct BETWEEN 1 AND 100", name=op.f("ck_queues_sl_target_pct")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_queues")),
    )


def _waiting_calls() -> None:
    op.create_table(
        "waiting_calls",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("entered_at", _UTC, nullable=False),
        sa.Column("queued_at", _UTC, nullable=False),
        sa.Column("declined_by", _JSON, nullable=False),
        sa.Column("state", sa.String(length=16), server_default="waiting", nullable=False),
        sa.Column("reserved_agent", sa.String(length=32), nullable=True),
        sa.Column("instance", sa.String(), server_default="", nullable=False),
        sa.Column("caller", sa.String(), server_default="", nullable=False),
        sa.Column("unique_id", sa.String(), server_default="", nullable=False),
        sa.Column("channel", sa.String(), server_default="", nullable=False),
        sa.CheckConstraint(_one_of("state", CALL_STATES), name=op.f("ck_waiting_calls_state")),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_waiting_calls")),
    )
    op.create_index(
        "ix_waiting_calls_queue_state_priority_entered_at",
        "waiting_calls",
        ["queue", "state", "priority", "entered_at"],
    )


def _logs() -> None:
    op.create_table(
        "agent_state_log",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_state_log")),
    )
    op.create_index("ix_agent_state_log_agent_id_at", "agent_state_log", ["agent_id", "at"])
    op.create_table(
        "queue_log",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=True),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(_one_of("event", QUEUE_EVENTS), name=op.f("ck_queue_log_event")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_log")),
    )
    op.create_index("ix_queue_log_call_id", "queue_log", ["call_id"])
    op.create_index("ix_queue_log_queue_at", "queue_log", ["queue", "at"])


def upgrade() -> None:
    _agents()
    _skills()
    _queues()
    _waiting_calls()
    _logs()


def downgrade() -> None:
    for table in (
        "queue_log",
        "agent_state_log",
        "waiting_calls",
        "queues",
        "agent_skills",
        "skills",
        "agents",
    ):
        op.drop_table(table)
