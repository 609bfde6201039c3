"""What the migrations must produce: the union of the journal, data, ACD and access models.

``env.py`` gives these to Alembic, and the test that compares a migrated database with the
models uses the same ``TARGET_METADATA`` and ``context_options``, so a model change without
a migration fails that test.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, TypeDecorator

from acd.store.tables import AcdBase
from ivr_engine.access.tables import AccessBase
from ivr_engine.data.tables import DataBase
from ivr_engine.journal.tables import JournalBase

TARGET_METADATA: tuple[MetaData, ...] = (
    JournalBase.metadata,
    DataBase.metadata,
    AcdBase.metadata,
    AccessBase.metadata,
)

BASELINE = "0001"
"""The revision of the schema that ``create_all`` made before migrations existed."""

BASELINE_TABLES = frozenset(
    {"calls", "call_steps", "subscribers", "blacklist", "topup_cards", "counters"}
)


def _render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations spell out the stored type (UTCDateTime -> sa.DateTime(timezone=True)),
    # so a revision never imports the models it must outlive.
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def context_options(dialect: str) -> dict[str, Any]:
    """Options for ``EnvironmentContext.configure`` / ``MigrationContext.configure``."""
    return {
        "target_metadata": list(TARGET_METADATA),
        "compare_type": True,
        "render_item": _render_item,
        # SQLite cannot ALTER most things: later migrations copy and move the table.
        "render_as_batch": dialect == "sqlite",
    }
