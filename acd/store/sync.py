"""Write the ACD configuration to the database: ``await sync_config(url, config)``.

Skills, queues and agents' skills end up exactly as configured; an agent gets a row
(logged out) when new, and its name and endpoint follow the file. What agents are doing
(state, pause, calls, ``version``) is never touched. An agent no longer configured is
deleted once logged out; while logged in it is kept, skills and all, and reported.

When agents' skills change, the feed's skills counter moves on, so running instances route
on the new skills from their next pass.

Idempotent (a second run changes nothing) and safe when several instances sync at once:
one transaction under the schema lock (``ground.database.exclusive_transaction``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, tuple_, update

from acd.agents import AgentState
from acd.config import AcdConfig, QueueSettings, ServiceLevel, requirements
from acd.routing import Action, Announce, OfferCallback, Overflow, QueueConfig, Requirements, Step
from acd.store.changes import skills_changed
from acd.store.tables import AcdBase, AgentRow, AgentSkillRow
from ground.database import exclusive_transaction

_SKILLS: Table = AcdBase.metadata.tables["skills"]
_QUEUES: Table = AcdBase.metadata.tables["queues"]


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@dataclass
class SyncReport:
    skills: Changes = field(default_factory=Changes)
    queues: Changes = field(default_factory=Changes)
    agents: Changes = field(default_factory=Changes)
    agent_skills: Changes = field(default_factory=Changes)  # as "agent/skill"
    kept: list[str] = field(default_factory=list)  # unconfigured agents still logged in

    @property
    def changed(self) -> bool:
        return any((self.skills, self.queues, self.agents, self.agent_skills))


def _levels(reqs: Requirements | None) -> dict[str, int] | None:
    return None if reqs is None else {r.skill: r.min_level for r in reqs}


def _action_json(action: Action | None) -> dict[str, Any] | None:
    if isinstance(action, Overflow):
        return {"action": "overflow", "queue": action.queue}
    if isinstance(action, OfferCallback):
        return {"action": "callback"}
    if isinstance(action, Announce):
        return {"action": "announce", "prompt": action.prompt, "destination": action.destination}
    return None


def _action(spec: dict[str, Any] | None) -> Action | None:
    if spec is None:
        return None
    if spec["action"] == "overflow":
        return Overflow(spec["queue"])
    if spec["action"] == "callback":
        return OfferCallback()
    return Announce(spec["prompt"], spec["destination"])


def queue_row(queue: QueueSettings) -> dict[str, Any]:
    """The ``queues`` row of a queue (JSON parts in the config file's shape)."""
    routing = queue.routing
    return {
        "name": routing.name,
        "requirements": _levels(routing.requirements),
        "strategy": routing.strategy,
        "match": routing.match,
        "sl_target_pct": queue.service_level.target_pct,
        "sl_threshold_s": queue.service_level.threshold_s,
        "wrap_up_s": queue.wrap_up_s,
        "max_wait_s": routing.max_wait,
        "on_max_wait": _action_json(routing.on_max_wait),
        "escalation": [
            {
                "after": s.after,
                "requirements": _levels(s.requirements),
                "priority_boost": s.priority_boost,
            }
            for s in routing.escalation
        ],
        "recording": queue.recording,
        "priority": queue.priority,
    }


def queue_from_row(row: Any) -> QueueSettings:
    """A queue as read back from its ``queues`` row."""
    steps = tuple(
        Step(
            s["after"],
            None if s["requirements"] is None else requirements(s["requirements"]),
            s["priority_boost"],
        )
        for s in row.escalation
    )
    routing = QueueConfig(
        name=row.name,
        requirements=requirements(row.requirements),
        strategy=row.strategy,
        match=row.match,
        escalation=steps,
        max_wait=row.max_wait_s,
        on_max_wait=_action(row.on_max_wait),
    )
    level = ServiceLevel(row.sl_target_pct, row.sl_threshold_s)
    return QueueSettings(routing, row.priority, level, row.wrap_up_s, row.recording)


async def sync_config(url: str, config: AcdConfig, *, timeout: float = 30.0) -> SyncReport:
    async with exclusive_transaction(url, timeout=timeout) as conn:
        return await conn.run_sync(_sync, config)


def _sync(conn: Connection, config: AcdConfig) -> SyncReport:
    report = SyncReport()
    # Foreign keys: skills and agents before their links; links go with agents and skills.
    skills = {name: {"name": name, "description": d} for name, d in config.skills.items()}
    _upsert(conn, _SKILLS, skills, report.skills)
    _sync_agents(conn, config, report)
    _sync_agent_skills(conn, config, report.agent_skills)
    _remove(conn, _SKILLS, set(skills), report.skills)
    queues = {name: queue_row(queue) for name, queue in config.queues.items()}
    _upsert(conn, _QUEUES, queues, report.queues)
    _remove(conn, _QUEUES, set(queues), report.queues)
    return report


def _upsert(
    conn: Connection, table: Table, wanted: dict[str, dict[str, Any]], out: Changes
) -> None:
    key = table.primary_key.columns[0]
    have = {row[0]: row._asdict() for row in conn.execute(select(table))}
    for name, row in wanted.items():
        if name not in have:
            conn.execute(insert(table).values(row))
            out.added.append(name)
        elif any(have[name][column] != value for column, value in row.items()):
            conn.execute(update(table).where(key == name).values(row))
            out.changed.append(name)


def _remove(conn: Connection, table: Table, wanted: set[str], out: Changes) -> None:
    key = table.primary_key.columns[0]
    gone = sorted(set(conn.scalars(select(key)).all()) - wanted)
    if gone:
        conn.execute(delete(table).where(key.in_(gone)))
        out.removed.extend(gone)


def _sync_agents(conn: Connection, config: AcdConfig, report: SyncReport) -> None:
    have = {
        row.id: row
        for row in conn.execute(
            select(AgentRow.id, AgentRow.name, AgentRow.endpoint, AgentRow.state)
        )
    }
    now = datetime.now(UTC)
    for agent in config.agents.values():
        row = have.get(agent.id)
        if row is None:
            conn.execute(
                insert(AgentRow).values(
                    id=agent.id, name=agent.name, endpoint=agent.endpoint, state_since=now
                )
            )
            report.agents.added.append(agent.id)
        elif (row.name, row.endpoint) != (agent.name, agent.endpoint):
            conn.execute(
                update(AgentRow)
                .where(AgentRow.id == agent.id)
                .values(name=agent.name, endpoint=agent.endpoint)
            )
            report.agents.changed.append(agent.id)
    gone = sorted(set(have) - set(config.agents))
    report.kept = [a for a in gone if have[a].state != AgentState.LOGGED_OUT]
    removed = [a for a in gone if a not in report.kept]
    if removed:  # their skills go with them (ON DELETE CASCADE)
        conn.execute(delete(AgentRow).where(AgentRow.id.in_(removed)))
        report.agents.removed.extend(removed)


def _sync_agent_skills(conn: Connection, config: AcdConfig, out: Changes) -> None:
    wanted = {
        (agent.id, skill): level
        for agent in config.agents.values()
        for skill, level in agent.skills.items()
    }
    rows = conn.execute(select(AgentSkillRow.agent_id, AgentSkillRow.skill, AgentSkillRow.level))
    have = {(a, s): level for a, s, level in rows if a in config.agents}
    for (agent_id, skill), level in wanted.items():
        if (agent_id, skill) not in have:
            conn.execute(insert(AgentSkillRow).values(agent_id=agent_id, skill=skill, level=level))
            out.added.append(f"{agent_id}/{skill}")
        elif have[agent_id, skill] != level:
            conn.execute(
                update(AgentSkillRow)
                .where(AgentSkillRow.agent_id == agent_id, AgentSkillRow.skill == skill)
                .values(level=level)
            )
            out.changed.append(f"{agent_id}/{skill}")
    gone = sorted(set(have) - set(wanted))
    if gone:
        pair = tuple_(AgentSkillRow.agent_id, AgentSkillRow.skill)
        conn.execute(delete(AgentSkillRow).where(pair.in_(gone)))
        out.removed.extend(f"{a}/{s}" for a, s in gone)
    if out:  # running instances read the skills again at their next pass
        skills_changed(conn)
