"""sync_config writes config/acd.yaml to the ACD tables, idempotently, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine

from acd.config import DEFAULT_ACD_FILE, AcdConfig, load_config, parse_config
from acd.store.sync import queue_from_row, sync_config
from acd.store.tables import AgentRow, AgentSkillRow, QueueRow, SkillRow

DEMO: dict[str, Any] = yaml.safe_load(DEFAULT_ACD_FILE.read_text(encoding="utf-8"))


async def read(url: str) -> dict[str, Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            skills = dict((await conn.execute(select(SkillRow.name, SkillRow.description))).all())
            links = await conn.execute(
                select(AgentSkillRow.agent_id, AgentSkillRow.skill, AgentSkillRow.level)
            )
            agents = {row.id: row for row in await conn.execute(select(AgentRow))}
            queues = {row.name: queue_from_row(row) for row in await conn.execute(select(QueueRow))}
    finally:
        await engine.dispose()
    return {
        "skills": skills,
        "agent_skills": {(a, s): level for a, s, level in links},
        "agents": agents,
        "queues": queues,
    }


async def execute(url: str, *statements: Any) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(statement)
    finally:
        await engine.dispose()


def expected_links(config: AcdConfig) -> dict[tuple[str, str], int]:
    return {(a.id, s): level for a in config.agents.values() for s, level in a.skills.items()}


async def test_sync_writes_the_config_and_a_second_run_changes_nothing(db_url: str) -> None:
    config = load_config()
    first = await sync_config(db_url, config)
    assert (len(first.skills.added), len(first.queues.added), len(first.agents.added)) == (9, 8, 50)
    assert first.changed

    again = await sync_config(db_url, config)
    assert not again.changed
    assert again.kept == []

    stored = await read(db_url)
    assert stored["skills"] == config.skills
    assert stored["agent_skills"] == expected_links(config)
    assert stored["queues"] == config.queues  # every field, read back through queue_from_row
    agent = stored["agents"]["8017"]
    assert (agent.name, agent.endpoint, agent.state, agent.version) == (
        "Agent 8017",
        "PJSIP/8017",
        "logged-out",
        1,
    )
    assert agent.state_since.tzinfo is not None


async def test_changes_follow_the_file_and_live_state_is_untouched(db_url: str) -> None:
    await sync_config(db_url, load_config())
    live = {"state": "paused", "pause_reason": "lunch", "calls_today": 7, "version": 12}
    await execute(
        db_url,
        update(AgentRow).where(AgentRow.id == "8001").values(**live),
        update(AgentRow).where(AgentRow.id == "8049").values(state="on-call", version=3),
    )
    raw = copy.deepcopy(DEMO)
    del raw["skills"]["english"]
    for group in raw["agents"]:
        group["skills"].pop("english", None)
    raw["agents"][-1]["ids"] = "8049-8049"  # 8050 (logged out) goes; 8049 stays configured
    raw["agents"][0]["name"] = "VIP {id}"
    raw["agents"][0]["skills"]["vip"] = 4
    raw["queues"]["sales"]["priority"] = 1
    del raw["queues"]["faults"]
    changed = parse_config(raw)

    report = await sync_config(db_url, changed)
    assert report.skills.removed == ["english"]
    assert report.queues.changed == ["sales"]
    assert report.queues.removed == ["faults"]
    assert report.agents.removed == ["8050"]
    assert report.agents.changed == ["8001", "8002"]
    assert sorted(report.agent_skills.changed) == ["8001/vip", "8002/vip"]
    stored = await read(db_url)
    assert stored["agent_skills"] == expected_links(changed)
    assert stored["queues"] == changed.queues
    first = stored["agents"]["8001"]
    assert first.name == "VIP 8001"
    assert {k: getattr(first, k) for k in live} == live  # the live state is as it was

    # 8049 is on a call when the file drops it: kept until logged out, then removed.
    raw["agents"].pop()
    report = await sync_config(db_url, parse_config(raw))
    assert report.kept == ["8049"]
    assert "8049" in (await read(db_url))["agents"]
    await execute(db_url, update(AgentRow).where(AgentRow.id == "8049").values(state="logged-out"))
    report = await sync_config(db_url, parse_config(raw))
    assert report.agents.removed == ["8049"]
    assert report.kept == []


async def test_concurrent_syncs(db_url: str) -> None:
    config = load_config()
    reports = await asyncio.gather(*(sync_config(db_url, config) for _ in range(3)))
    assert sum(len(r.agents.added) for r in reports) == 50  # one did the work
    assert (await read(db_url))["agent_skills"] == expected_links(config)
