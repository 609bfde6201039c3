"""The shape of ``config/acd.yaml`` as pydantic models (``acd.config`` builds the values).

Only the shape and the ranges are checked here; names that must refer to each other
(skills, overflow queues) are checked by ``acd.config`` with the whole file in view.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from acd.agents import DEFAULT_PAUSE_REASONS
from acd.routing import MAX_LEVEL, MIN_LEVEL, Match, Strategy

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=32)]
QueueName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
Level = Annotated[int, Field(strict=True, ge=MIN_LEVEL, le=MAX_LEVEL)]
SkillLevels = dict[Name, Level]
AgentId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_]+(-[0-9]+)?$", max_length=32)]
Seconds = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceLevelFile(_Strict):
    target_pct: int = Field(80, ge=1, le=100)
    threshold_s: Seconds = 20.0


class StepFile(_Strict):
    after: float = Field(ge=0)
    requirements: SkillLevels | None = Field(
        None, description="Replace the requirements ({}: any agent); absent: keep them."
    )
    priority_boost: int = Field(0, ge=0)


class OverflowFile(_Strict):
    after: Seconds
    action: Literal["overflow"]
    queue: QueueName


class CallbackFile(_Strict):
    after: Seconds
    action: Literal["callback"]


class AnnounceFile(_Strict):
    after: Seconds
    action: Literal["announce"]
    prompt: str = Field(min_length=1)
    destination: str = Field(min_length=1)


MaxWaitFile = Annotated[OverflowFile | CallbackFile | AnnounceFile, Field(discriminator="action")]


class QueueDefaults(_Strict):
    strategy: Strategy = "longest-idle"
    match: Match = "closest-fit"
    service_level: ServiceLevelFile = ServiceLevelFile()
    wrap_up_s: float = Field(0.0, ge=0)
    recording: bool = False
    ring_timeout_s: float = Field(15.0, gt=0, le=120)
    announce_every_s: float = Field(30.0, ge=0, description="Position and wait; 0: never.")


class QueueFile(_Strict):
    requirements: SkillLevels = Field(default_factory=dict)
    priority: int = Field(0, ge=0, le=100)
    strategy: Strategy | None = None
    match: Match | None = None
    service_level: ServiceLevelFile | None = None
    wrap_up_s: float | None = Field(None, ge=0)
    recording: bool | None = None
    escalation: list[StepFile] = Field(default_factory=list)
    max_wait: MaxWaitFile | None = None
    ring_timeout_s: float | None = Field(None, gt=0, le=120)
    announce_every_s: float | None = Field(None, ge=0)
    whisper: list[str] | None = Field(
        None, description="Prompts the agent hears before the caller; default acd-whisper-<queue>."
    )


class AgentGroupFile(_Strict):
    ids: AgentId | int | list[AgentId | int] = Field(description="8001, 8001-8010 or a list")
    skills: SkillLevels
    name: str = "Agent {id}"
    endpoint: str = "PJSIP/{id}"


class PolicyFile(_Strict):
    pause_reasons: list[str] = Field(default_factory=lambda: list(DEFAULT_PAUSE_REASONS.selectable))
    max_missed: int = Field(2, ge=0)
    log_in_paused: str | None = None
    default_pause_reason: str = "break"


class CallbacksFile(_Strict):
    window_from: str = Field("07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    window_to: str = Field("22:00", pattern=r"^([01]\d|2[0-4]):[0-5]\d$")
    dial: str = Field("PJSIP/{number}@pstn", description="How Asterisk dials a customer.")
    ring_timeout_s: float = Field(30.0, gt=0, le=120)
    retry_after_s: float = Field(300.0, gt=0)
    max_attempts: int = Field(3, ge=1, le=10)


class AcdFile(_Strict):
    version: Literal[1]
    defaults: QueueDefaults = QueueDefaults()
    agent_policy: PolicyFile = PolicyFile()
    skills: dict[Name, str]
    queues: dict[QueueName, QueueFile]
    agents: list[AgentGroupFile] = Field(default_factory=list)
    callbacks: CallbacksFile = CallbacksFile()
