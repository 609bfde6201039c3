"""config/acd.yaml: the demo file loads and fits the menus; bad files say where and what."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from acd.config import (
    DEFAULT_ACD_FILE,
    AcdConfigError,
    ServiceLevel,
    expand_ids,
    load_config,
    parse_config,
)
from acd.routing import AgentView, OfferCallback, Overflow, Requirement, qualifies
from ground.paths import PROJECT_ROOT

DEMO: dict[str, Any] = yaml.safe_load(DEFAULT_ACD_FILE.read_text(encoding="utf-8"))


def demo(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(DEMO)
    raw.update(changes)
    return raw


def problems(raw: Any) -> list[str]:
    with pytest.raises(AcdConfigError) as caught:
        parse_config(raw, "acd.yaml")
    assert str(caught.value).startswith("acd.yaml: ")
    return caught.value.problems


def menu_queue_nodes() -> list[tuple[str, dict[str, int], int]]:
    nodes = []
    for path in sorted((PROJECT_ROOT / "config" / "menus").glob("*.yaml")):
        menu = yaml.safe_load(path.read_text(encoding="utf-8"))
        for node_id, node in menu["nodes"].items():
            if node["type"] == "queue":
                nodes.append((node_id, node.get("skills", {}), node.get("priority", 0)))
    return nodes


def test_the_demo_file_loads() -> None:
    config = load_config()
    assert config.source == str(DEFAULT_ACD_FILE)
    assert set(config.skills) == {
        "vip", "gotone", "general", "group-customers",
        "faults", "billing", "complaints", "sales", "english",
    }  # fmt: skip
    assert sorted(config.agents) == [str(n) for n in range(8001, 8051)]
    assert config.agents["8001"].endpoint == "PJSIP/8001"
    assert config.agents["8001"].name == "Agent 8001"
    assert config.agents["8001"].skills["vip"] == 5
    general = config.queues["general"]
    assert general.service_level == ServiceLevel(80, 20.0)
    assert general.wrap_up_s == 15.0
    assert general.routing.strategy == "least-calls"
    vip = config.queues["vip"].routing
    assert vip.match == "most-skilled"
    assert vip.on_max_wait == Overflow("general")
    assert vip.stages[2].requirements == (Requirement("general", 3),)
    assert vip.stages[2].priority_boost == 5
    complaints = config.queues["complaints"].routing
    assert [s.after for s in complaints.escalation] == [30.0, 90.0]
    assert complaints.escalation[0].requirements == (Requirement("complaints", 1),)
    assert complaints.on_max_wait == OfferCallback()
    assert config.routing()["sales"].strategy == "round-robin"


def test_every_menu_queue_node_has_its_queue() -> None:
    queues = load_config().queues
    nodes = menu_queue_nodes()
    assert len(nodes) == len(queues) == 8
    for node_id, skills, priority in nodes:
        matching = [
            q
            for q in queues.values()
            if {r.skill: r.min_level for r in q.routing.requirements} == skills
        ]
        assert len(matching) == 1, node_id
        assert matching[0].priority == priority, node_id


def test_every_queue_and_stage_has_agents_and_every_skill_is_staffed() -> None:
    config = load_config()
    views = [AgentView(a.id, a.skills) for a in config.agents.values()]
    for queue in config.queues.values():
        for stage in queue.routing.stages:
            assert any(qualifies(v, stage.requirements) for v in views), queue.name
    staffed = {skill for agent in config.agents.values() for skill in agent.skills}
    assert staffed == set(config.skills)


def test_ids_expand_from_ranges_and_lists() -> None:
    assert expand_ids("8001-8003") == ["8001", "8002", "8003"]
    assert expand_ids(["0098-0100", 7, "x1"]) == ["0098", "0099", "0100", "7", "x1"]
    with pytest.raises(ValueError, match="not a range"):
        expand_ids("8005-8001")


def test_shape_errors_name_the_field() -> None:
    raw = demo()
    raw["agents"][0]["skills"]["vip"] = 6
    raw["queues"]["vip"]["escalation"][0]["after"] = -1
    raw["queues"]["sales"]["strategy"] = "random"
    raw["defaults"]["service_level"]["target_pct"] = 0
    found = problems(raw)
    assert any(
        p.startswith("agents.0.skills.vip: ") and "less than or equal to 5" in p for p in found
    )
    assert any(p.startswith("queues.vip.escalation.0.after: ") for p in found)
    assert any(p.startswith("queues.sales.strategy: ") for p in found)
    assert any(p.startswith("defaults.service_level.target_pct: ") for p in found)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r["queues"]["vip"].update(unknown=1),
        lambda r: r["agents"][0]["skills"].update(vip=True),
        lambda r: r.pop("version"),
        lambda r: r["queues"]["vip"].update(max_wait={"after": 5, "action": "hold"}),
    ],
)
def test_more_shape_errors(mutate: Any) -> None:
    raw = demo()
    mutate(raw)
    assert problems(raw)


def test_references_are_checked_all_at_once() -> None:
    raw = demo()
    raw["queues"]["vip"]["requirements"] = {"vipp": 1}
    raw["queues"]["gotone"]["escalation"][0]["requirements"] = {"mandarin": 2}
    raw["queues"]["general"]["max_wait"] = {"after": 60, "action": "overflow", "queue": "nowhere"}
    raw["agents"][1]["skills"]["french"] = 3
    raw["agents"][2]["ids"] = "8001-8002"  # already the first group's
    assert problems(raw) == [
        "queues.vip.requirements: unknown skill 'vipp'",
        "queues.gotone.escalation.0.requirements: unknown skill 'mandarin'",
        "queues.general.max_wait.queue: unknown queue 'nowhere'",
        "agents.1.skills: unknown skill 'french'",
        "agents.2.ids: agent 8001 is listed twice",
        "agents.2.ids: agent 8002 is listed twice",
    ]


def test_routing_model_errors_name_the_queue() -> None:
    raw = demo()
    raw["queues"]["vip"]["escalation"][1]["after"] = 10  # before the first step's 30
    raw["queues"]["general"]["max_wait"] = {"after": 60, "action": "overflow", "queue": "general"}
    found = problems(raw)
    assert found[0] == "queues.vip: queue 'vip': escalation steps must have growing after"
    assert found[1] == "queues.general: queue 'general' cannot overflow to itself"


def test_agent_ids_and_templates() -> None:
    raw = demo(agents=[{"ids": "8009-8001", "skills": {"general": 1}}])
    assert problems(raw) == ["agents.0.ids: '8009-8001' is not a range like 8001-8010"]
    raw = demo(agents=[{"ids": 8001, "skills": {"general": 1}, "endpoint": "SIP/{ext}"}])
    assert problems(raw)[0].startswith("agents.0: name and endpoint may use {id} only")
    raw = demo(agents=[{"ids": [8001, "9001"], "skills": {"general": 1}, "name": "Seat {id}"}])
    config = parse_config(raw)
    assert [a.name for a in config.agents.values()] == ["Seat 8001", "Seat 9001"]


def test_agent_policy() -> None:
    raw = demo(agent_policy={"pause_reasons": ["break", "missed-calls"]})
    assert problems(raw) == [
        "agent_policy: pause reason 'missed-calls' is built in; do not configure it"
    ]
    raw = demo(agent_policy={"pause_reasons": ["coffee"], "default_pause_reason": "coffee"})
    assert parse_config(raw).policy.pause_reasons.by_number(1) == "coffee"


def test_queue_defaults_apply_unless_overridden() -> None:
    raw = demo(defaults={"wrap_up_s": 5, "recording": True, "match": "any"})
    config = parse_config(raw)
    assert config.queues["general"].wrap_up_s == 5
    assert config.queues["complaints"].wrap_up_s == 60
    assert config.queues["general"].recording is True
    assert config.queues["general"].routing.match == "any"
    assert config.queues["vip"].routing.match == "most-skilled"
    assert config.queues["general"].service_level == ServiceLevel()


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(AcdConfigError, match=r"missing\.yaml: cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("skills: [unclosed\n")
    with pytest.raises(AcdConfigError, match=r"bad\.yaml: not valid YAML"):
        load_config(bad)
    bad.write_text("- a list\n")
    with pytest.raises(AcdConfigError, match=r"bad\.yaml: line 1: \(top\): "):
        load_config(bad)
