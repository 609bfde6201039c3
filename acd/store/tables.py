"""SQLAlchemy models of the ACD (own metadata: ``AcdBase.metadata``, in the migrations' target).

- ``agents``: one row per agent seat with its live :class:`acd.agents.AgentStatus`
  (``version`` grows on every write: writers check it, optimistic concurrency).
- ``skills``, ``agent_skills`` (level 1-5) and ``queues``: written from ``config/acd.yaml``
  by :func:`acd.store.sync.sync_config`; a queue's requirements, escalation steps and
  max-wait action are JSON in the shape of the config file.
- ``waiting_calls``: callers waiting for, or being offered to, an agent.
- ``agent_state_log`` and ``queue_log``: append-only history for reports.
- The change feed: every insert or update of an ``agents`` or ``waiting_calls`` row sets
  its ``changed`` column, by triggers (revision 0005), whoever writes: on PostgreSQL the
  writing transaction's id, on SQLite the next value of the one-row counter
  ``acd_changes``; a change of agents' skills moves ``acd_changes`` row 2 on. Each
  instance reads only the rows changed since it last looked
  (:mod:`acd.store.changes`). A migration that rebuilds either table (a SQLite batch
  copy) must create the triggers again; ``tests/db/test_acd_changes.py`` checks them.

Times are UTC (``UTCDateTime``, as in the journal). Enumerated values are plain strings
with CHECK constraints, so adding a value is a small migration on SQLite and PostgreSQL
alike (no native enum types). Constraint names follow ``NAMING``, so later batch
migrations on SQLite can address them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from acd.agents.states import AgentState
from ground.schema import NAMING, UTCDateTime, one_of

MARKS_COUNTER = 1  # acd_changes row of SQLite's marks
SKILLS_COUNTER = 2  # acd_changes row that moves on when agents' skills change

CALL_STATES = ("waiting", "offered", "answered", "abandoned", "overflowed", "callback")
NOT_ANSWERED = ("waiting", "offered")  # no agent has the call yet (offered: its phone rings)
CALL_KINDS = ("caller", "callback")  # a caller on the line, or a callback owed to one
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


AGENT_STATES = tuple(state.value for state in AgentState)

# Integer on SQLite so the key is the rowid (autoincrement); 64-bit elsewhere.
_LogId = BigInteger().with_variant(Integer(), "sqlite")
_Json = JSON(none_as_null=True)


class AcdBase(DeclarativeBase):
    """Declarative base owning the ACD's MetaData."""

    metadata = MetaData(naming_convention=NAMING)


class AgentRow(AcdBase):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(), default="", server_default="")
    endpoint: Mapped[str] = mapped_column(String(), default="", server_default="")
    state: Mapped[str] = mapped_column(
        String(16), default=AgentState.LOGGED_OUT.value, server_default="logged-out"
    )
    state_since: Mapped[datetime] = mapped_column(UTCDateTime())
    pause_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    pending: Mapped[dict[str, Any] | None] = mapped_column(_Json, nullable=True)
    missed_in_row: Mapped[int] = mapped_column(Integer(), default=0, server_default="0")
    last_call_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    calls_today: Mapped[int] = mapped_column(Integer(), default=0, server_default="0")
    wrap_up_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    current_call: Mapped[str | None] = mapped_column(String(64), nullable=True)
    idle_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer(), default=1, server_default="1")
    changed: Mapped[int] = mapped_column(BigInteger(), server_default="0")  # by trigger

    __table_args__ = (
        CheckConstraint(one_of("state", AGENT_STATES), name="state"),
        Index("ix_agents_changed", "changed"),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it once)


class SkillRow(AcdBase):
    __tablename__ = "skills"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    description: Mapped[str] = mapped_column(String(), default="", server_default="")


class AgentSkillRow(AcdBase):
    __tablename__ = "agent_skills"

    agent_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(
        String(32), ForeignKey("skills.name", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[int] = mapped_column(Integer())

    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 5", name="level"),
        Index("ix_agent_skills_skill_level", "skill", "level"),
    )


class QueueRow(AcdBase):
    __tablename__ = "queues"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    requirements: Mapped[dict[str, int]] = mapped_column(_Json)  # skill -> min level
    strategy: Mapped[str] = mapped_column(String(16))
    match: Mapped[str] = mapped_column(String(16))
    sl_target_pct: Mapped[int] = mapped_column(Integer(), default=80, server_default="80")
    sl_threshold_s: Mapped[float] = mapped_column(Float(), default=20.0, server_default="20")
    wrap_up_s: Mapped[float] = mapped_column(Float(), default=0.0, server_default="0")
    max_wait_s: Mapped[float | None] = mapped_column(Float(), nullable=True)
    on_max_wait: Mapped[dict[str, Any] | None] = mapped_column(_Json, nullable=True)
    escalation: Mapped[list[dict[str, Any]]] = mapped_column(_Json)
    recording: Mapped[bool] = mapped_column(Boolean(), default=False, server_default=false())
    priority: Mapped[int] = mapped_column(Integer(), default=0, server_default="0")

    __table_args__ = (
        CheckConstraint("sl_target_pct BETWEEN 1 AND 100", name="sl_target_pct"),
        CheckConstraint("(max_wait_s IS NULL) = (on_max_wait IS NULL)", name="max_wait"),
    )


class WaitingCallRow(AcdBase):
    __tablename__ = "waiting_calls"

    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(Integer(), default=0, server_default="0")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    declined_by: Mapped[list[str]] = mapped_column(_Json, default=list)
    state: Mapped[str] = mapped_column(String(16), default="waiting", server_default="waiting")
    reserved_agent: Mapped[str | None] = mapped_column(String(32), nullable=True)
    instance: Mapped[str] = mapped_column(String(), default="", server_default="")
    caller: Mapped[str] = mapped_column(String(), default="", server_default="")
    unique_id: Mapped[str] = mapped_column(String(), default="", server_default="")
    channel: Mapped[str] = mapped_column(String(), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(16), default="caller", server_default="caller")
    callback_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer(), default=0, server_default="0")
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    changed: Mapped[int] = mapped_column(BigInteger(), server_default="0")  # by trigger

    __table_args__ = (
        CheckConstraint(one_of("state", CALL_STATES), name="state"),
        CheckConstraint(one_of("kind", CALL_KINDS), name="kind"),
        Index(
            "ix_waiting_calls_queue_state_priority_entered_at",
            "queue",
            "state",
            "priority",
            "entered_at",
        ),
        Index("ix_waiting_calls_changed", "changed"),
        Index("ix_waiting_calls_state_instance", "state", "instance"),
    )


class ChangeCounterRow(AcdBase):
    """Counters of the change feed. Row 1: SQLite's marks (the triggers take the next
    ``value`` for each row they mark; unused on PostgreSQL, where transaction ids mark the
    rows). Row 2 (:data:`SKILLS_COUNTER`): grows whenever agents' skills change."""

    __tablename__ = "acd_changes"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger(), server_default="0")


class AgentStateLogRow(AcdBase):
    __tablename__ = "agent_state_log"

    id: Mapped[int] = mapped_column(_LogId, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (Index("ix_agent_state_log_agent_id_at", "agent_id", "at"),)


class QueueLogRow(AcdBase):
    __tablename__ = "queue_log"

    id: Mapped[int] = mapped_column(_LogId, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(24))
    agent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    wait_s: Mapped[float | None] = mapped_column(Float(), nullable=True)
    talk_s: Mapped[float | None] = mapped_column(Float(), nullable=True)
    detail: Mapped[str] = mapped_column(Text(), default="", server_default="")

    __table_args__ = (
        CheckConstraint(one_of("event", QUEUE_EVENTS), name="event"),
        Index("ix_queue_log_queue_at", "queue", "at"),
        Index("ix_queue_log_call_id", "call_id"),
    )
