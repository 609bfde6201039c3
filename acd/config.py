"""The ACD's configuration (``config/acd.yaml``): skills, queues, agents and the agent policy.

``load_config(path)`` reads the file, validates it with pydantic and builds the values the
routing and the agent state machine use (``QueueConfig``, ``AgentPolicy``). Every problem
is reported at once, each as ``file: where: what`` (``config/acd.yaml: queues.vip.
escalation.0.requirements: unknown skill 'vipp'``), in an ``AcdConfigError``.

File shape (see ``config/acd.yaml`` for a commented example)::

    version: 1
    defaults: {strategy, match, service_level: {target_pct, threshold_s}, wrap_up_s, recording}
    agent_policy: {pause_reasons, max_missed, log_in_paused, default_pause_reason}
    skills: {name: description}
    queues: {name: {requirements: {skill: min level}, priority, escalation: [...],
                    max_wait: {after, action: overflow|callback|announce, ...}, ...}}
    agents: [{ids: "8001-8004" | "8001" | [...], skills: {skill: level}, name, endpoint}]

``name`` and ``endpoint`` are templates with ``{id}`` (default ``Agent {id}``, ``PJSIP/{id}``).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from acd.agents import AgentPolicy, PauseReasons
from acd.config_file import AcdFile, AgentGroupFile, MaxWaitFile, QueueFile, SkillLevels
from acd.routing import (
    Action,
    Announce,
    OfferCallback,
    Overflow,
    QueueConfig,
    Requirement,
    Requirements,
    Step,
    check_queues,
)
from ground.paths import PROJECT_ROOT
from ground.yaml_source import YamlSourceError, located, parse_yaml

DEFAULT_ACD_FILE = PROJECT_ROOT / "config" / "acd.yaml"
MAX_FILE_BYTES = 1024 * 1024
MAX_AGENTS = 10_000  # in one range and in the whole file


class AcdConfigError(ValueError):
    """The ACD configuration is unreadable or invalid; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__("\n".join(f"{source}: {problem}" for problem in problems))
        self.source = source
        self.problems = problems


@dataclass(frozen=True)
class ServiceLevel:
    """``target_pct`` % of calls answered within ``threshold_s`` seconds."""

    target_pct: int = 80
    threshold_s: float = 20.0


@dataclass(frozen=True)
class QueueSettings:
    routing: QueueConfig
    priority: int = 0  # of the calls that enter the queue
    service_level: ServiceLevel = ServiceLevel()
    wrap_up_s: float = 0.0
    recording: bool = False
    ring_timeout_s: float = 15.0  # how long an agent's phone rings before the next agent
    announce_every_s: float = 30.0  # position and estimated wait; 0: never
    whisper: tuple[str, ...] = ()  # prompts the agent hears first; () -> acd-whisper-<queue>

    @property
    def whisper_prompts(self) -> tuple[str, ...]:
        return self.whisper or (f"acd-whisper-{self.name}",)

    @property
    def name(self) -> str:
        return self.routing.name


@dataclass(frozen=True)
class AgentConfig:
    id: str
    name: str
    endpoint: str
    skills: dict[str, int]


@dataclass(frozen=True)
class CallbackSettings:
    """Outbound callbacks: only inside the window (local time of the hotline's calendar)."""

    window_from: str = "07:00"
    window_to: str = "22:00"
    dial: str = "PJSIP/{number}@pstn"
    ring_timeout_s: float = 30.0
    retry_after_s: float = 300.0
    max_attempts: int = 3

    def in_window(self, hhmm: str) -> bool:
        """Is the local time ``hhmm`` ("07:30") inside the outbound window?"""
        return self.window_from <= hhmm < self.window_to


@dataclass(frozen=True)
class AcdConfig:
    skills: dict[str, str]  # name -> description
    queues: dict[str, QueueSettings]
    agents: dict[str, AgentConfig]
    policy: AgentPolicy
    source: str = "<built>"
    callbacks: CallbackSettings = CallbackSettings()

    def routing(self) -> dict[str, QueueConfig]:
        return {name: queue.routing for name, queue in self.queues.items()}


def load_config(path: str | Path = DEFAULT_ACD_FILE) -> AcdConfig:
    """Read and check the file; every problem is ``file: line N: where: what``.

    The file is read as the menus are (``ground.yaml_source``): at most
    ``MAX_FILE_BYTES``, no anchors or aliases, no tags, one document, bounded nesting.
    """
    source = str(path)
    try:
        with Path(path).open("rb") as stream:
            content = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise AcdConfigError(source, [f"cannot read: {exc.strerror}"]) from exc
    if len(content) > MAX_FILE_BYTES:
        raise AcdConfigError(source, [f"the file is larger than {MAX_FILE_BYTES} bytes"])
    try:
        parsed = parse_yaml(content)
    except YamlSourceError as exc:
        problems = [
            f"not valid YAML: line {p.line}: {p.reason.removeprefix('not valid YAML: ')}"
            for p in exc.problems
        ]
        raise AcdConfigError(source, problems) from exc
    try:
        return parse_config(parsed.data, source)
    except AcdConfigError as exc:
        raise AcdConfigError(source, [located(p, parsed) for p in exc.problems]) from exc


def parse_config(raw: Any, source: str = "<data>") -> AcdConfig:
    try:
        file = AcdFile.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise AcdConfigError(source, problems) from exc
    return _Builder(file, source).build()


def requirements(levels: SkillLevels) -> Requirements:
    return tuple(Requirement(skill, level) for skill, level in levels.items())


def max_wait_action(spec: MaxWaitFile) -> Action:
    if spec.action == "overflow":
        return Overflow(spec.queue)
    if spec.action == "callback":
        return OfferCallback()
    return Announce(spec.prompt, spec.destination)


def expand_ids(ids: str | int | list[str | int]) -> list[str]:
    """``"8001-8004"`` -> 8001, 8002, 8003, 8004 (keeping leading zeros); lists concatenate."""
    if isinstance(ids, list):
        return [one for part in ids for one in expand_ids(part)]
    text = str(ids)
    first, dash, last = text.partition("-")
    if not dash:
        return [text]
    if not (first.isdigit() and last.isdigit() and int(first) <= int(last)):
        raise ValueError(f"{text!r} is not a range like 8001-8010")
    if int(last) - int(first) >= MAX_AGENTS:
        raise ValueError(f"{text!r} is more than {MAX_AGENTS} agents")
    return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]


def _only_id_fields(template: str) -> bool:
    """True if the template's only fields are plain ``{id}`` (no ``{id.attr}``, no
    ``{id:>999999}``: a format spec can build a string of any size)."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:  # an unmatched brace
        return False
    return all(
        name is None or (name == "id" and not spec and conversion is None)
        for _, name, spec, conversion in fields
    )


class _Builder:
    def __init__(self, file: AcdFile, source: str) -> None:
        self.file = file
        self.source = source
        self.problems: list[str] = []

    def _known(self, where: str, levels: SkillLevels | None) -> None:
        for skill in levels or {}:
            if skill not in self.file.skills:
                self.problems.append(f"{where}: unknown skill {skill!r}")

    def build(self) -> AcdConfig:
        queues = {
            name: q for name, spec in self.file.queues.items() if (q := self._queue(name, spec))
        }
        agents: dict[str, AgentConfig] = {}
        for n, group in enumerate(self.file.agents):
            self._agents(f"agents.{n}", group, agents)
        if not self.problems:  # else it repeats them: a dropped queue is "unknown" here
            try:
                check_queues({name: q.routing for name, q in queues.items()})
            except ValueError as exc:
                self.problems.append(f"queues: {exc}")
        policy = self._policy()
        if self.problems:
            raise AcdConfigError(self.source, self.problems)
        assert policy is not None
        cb = self.file.callbacks
        callbacks = CallbackSettings(
            cb.window_from,
            cb.window_to,
            cb.dial,
            cb.ring_timeout_s,
            cb.retry_after_s,
            cb.max_attempts,
        )
        if callbacks.window_from >= callbacks.window_to:
            raise AcdConfigError(self.source, ["callbacks: window_from must be before window_to"])
        return AcdConfig(dict(self.file.skills), queues, agents, policy, self.source, callbacks)

    def _queue(self, name: str, spec: QueueFile) -> QueueSettings | None:
        where = f"queues.{name}"
        self._known(f"{where}.requirements", spec.requirements)
        for n, step in enumerate(spec.escalation):
            self._known(f"{where}.escalation.{n}.requirements", step.requirements)
        overflow = spec.max_wait if spec.max_wait and spec.max_wait.action == "overflow" else None
        if overflow is not None and overflow.queue not in self.file.queues:
            self.problems.append(f"{where}.max_wait.queue: unknown queue {overflow.queue!r}")
            return None
        defaults = self.file.defaults
        try:
            routing = QueueConfig(
                name=name,
                requirements=requirements(spec.requirements),
                strategy=spec.strategy or defaults.strategy,
                match=spec.match or defaults.match,
                escalation=tuple(
                    Step(
                        step.after,
                        None if step.requirements is None else requirements(step.requirements),
                        step.priority_boost,
                    )
                    for step in spec.escalation
                ),
                max_wait=None if spec.max_wait is None else spec.max_wait.after,
                on_max_wait=None if spec.max_wait is None else max_wait_action(spec.max_wait),
            )
        except ValueError as exc:
            self.problems.append(f"{where}: {exc}")
            return None
        level = spec.service_level or defaults.service_level
        return QueueSettings(
            routing=routing,
            priority=spec.priority,
            service_level=ServiceLevel(level.target_pct, level.threshold_s),
            wrap_up_s=defaults.wrap_up_s if spec.wrap_up_s is None else spec.wrap_up_s,
            recording=defaults.recording if spec.recording is None else spec.recording,
            ring_timeout_s=spec.ring_timeout_s or defaults.ring_timeout_s,
            announce_every_s=(
                defaults.announce_every_s
                if spec.announce_every_s is None
                else spec.announce_every_s
            ),
            whisper=tuple(spec.whisper or ()),
        )

    def _agents(self, where: str, group: AgentGroupFile, agents: dict[str, AgentConfig]) -> None:
        self._known(f"{where}.skills", group.skills)
        try:
            ids = expand_ids(group.ids)
        except ValueError as exc:
            self.problems.append(f"{where}.ids: {exc}")
            return
        odd = [t for t in (group.name, group.endpoint) if not _only_id_fields(t)]
        if odd:
            self.problems.append(f"{where}: name and endpoint may use {{id}} only ({odd[0]!r})")
            return
        made = [
            AgentConfig(i, group.name.format(id=i), group.endpoint.format(id=i), dict(group.skills))
            for i in ids
        ]
        if len(agents) + len(made) > MAX_AGENTS:
            self.problems.append(f"{where}.ids: more than {MAX_AGENTS} agents in all")
            return
        for agent in made:
            if agent.id in agents:
                self.problems.append(f"{where}.ids: agent {agent.id} is listed twice")
            agents[agent.id] = agent

    def _policy(self) -> AgentPolicy | None:
        spec = self.file.agent_policy
        try:
            return AgentPolicy(
                pause_reasons=PauseReasons(tuple(spec.pause_reasons)),
                max_missed=spec.max_missed,
                log_in_paused=spec.log_in_paused,
                default_pause_reason=spec.default_pause_reason,
            )
        except ValueError as exc:
            self.problems.append(f"agent_policy: {exc}")
            return None
