"""Roles of the operations API and the principal a request acts as.

- ``agent``: acts on itself only (its own log-in, pauses, wrap-up, state);
- ``supervisor``: sees queues and agents, forces agents out or into pause, listens,
  whispers and barges, transfers or hangs up calls, reads reports;
- ``admin``: everything a supervisor can, plus menus, blacklist, holidays and tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the token's id and name, its role, and (agents) its agent."""

    token_id: str
    name: str
    role: Role
    agent_id: str | None = None

    def __post_init__(self) -> None:
        if (self.role is Role.AGENT) != (self.agent_id is not None):
            raise ValueError("an agent token names its agent; other roles name none")
