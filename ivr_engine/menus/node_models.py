"""The node types of the menu language, as pydantic models.

Every node names the nodes that can follow it in fields called ``next``, ``goto``,
``then``, ``default``, ``on_error``, ... ; ``targets()`` lists them for the checker.
A target is a node id, or one of the reserved words ``back`` (the previous menu),
``repeat`` (the current menu again) and ``return`` (back from a ``sub`` call).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ivr_engine.menus.conditions import Condition, condition_problems

RESERVED_TARGETS = ("back", "repeat", "return")
KEY_PATTERN = r"^[0-9*#]$"
Key = Annotated[str, Field(pattern=KEY_PATTERN)]
Target = Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
PromptId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_/-]*$")]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, description="Free text for the people who edit the menu.")

    def targets(self) -> list[str]:
        return []


class Retry(BaseModel):
    """What happens when the caller presses nothing, or a key that means nothing here."""

    model_config = ConfigDict(extra="forbid")
    prompts: list[list[PromptId]] = Field(
        default_factory=list,
        description="Prompts per attempt, escalating: the first list after the first miss, ...;"
        " the last list repeats for later misses.",
    )
    max: int = Field(3, ge=1, le=10, description="After this many misses the call goes to 'then'.")
    reprompt: bool = Field(
        True, description="After the retry prompts, play the node's own prompts again."
    )
    then: Target = Field(description="Where the call goes after max misses.")


class PlayNode(_Node):
    type: Literal["play"]
    prompts: list[PromptId] = Field(min_length=1)
    barge_in: bool = Field(False, description="A key stops the prompt and goes to the next node.")
    next: Target

    def targets(self) -> list[str]:
        return [self.next]


class MenuNode(_Node):
    type: Literal["menu"]
    prompts: list[PromptId] = Field(min_length=1)
    options: dict[Key, Target] = Field(min_length=1)
    timeout: float = Field(5.0, gt=0, le=60, description="Seconds to wait for a key.")
    no_input: Retry | None = None
    invalid: Retry | None = None
    keys: dict[Key, Target | None] = Field(
        default_factory=dict,
        description="Overrides of the file's menu-wide keys for this menu (null turns a key off).",
    )

    def targets(self) -> list[str]:
        found = list(self.options.values()) + [t for t in self.keys.values() if t]
        found += [r.then for r in (self.no_input, self.invalid) if r]
        return found


class CollectNode(_Node):
    type: Literal["collect"]
    prompts: list[PromptId] = Field(min_length=1)
    store: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")] = Field(
        description="Call variable that receives the digits."
    )
    min: int = Field(1, ge=1, le=32)
    max: int = Field(20, ge=1, le=32)
    terminator: Key | None = "#"
    timeout: float = Field(5.0, gt=0, le=60)
    secret: bool = Field(False, description="Mask the digits in the journal and the logs.")
    no_input: Retry | None = None
    invalid: Retry | None = None
    next: Target

    def targets(self) -> list[str]:
        return [self.next] + [r.then for r in (self.no_input, self.invalid) if r]


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    when: Condition
    goto: Target

    @field_validator("when")
    @classmethod
    def _check(cls, value: Condition) -> Condition:
        problems = condition_problems(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value


class BranchNode(_Node):
    type: Literal["branch"]
    cases: list[Case] = Field(min_length=1)
    default: Target

    def targets(self) -> list[str]:
        return [c.goto for c in self.cases] + [self.default]


class LookupNode(_Node):
    type: Literal["lookup"]
    number: Literal["caller", "var"] = "caller"
    var: str | None = Field(None, description="With number: var, the variable holding it.")
    next: Target
    on_error: Target

    def targets(self) -> list[str]:
        return [self.next, self.on_error]


class SayItem(BaseModel):
    """One piece of a spoken answer: a prompt, or a value of the query read out."""

    model_config = ConfigDict(extra="forbid")
    prompt: PromptId | None = None
    money: str | None = Field(None, description="Field of the result read as money (yuan).")
    number: str | None = Field(None, description="Field read as a number.")
    digits: str | None = Field(None, description="Field read digit by digit.")


class QueryNode(_Node):
    type: Literal["query"]
    query: Literal["balance", "charges", "package", "bill", "points"]
    local_only: bool = Field(
        True, description="Only subscribers of this hotline's region may query."
    )
    not_local: Target | None = None
    say: list[SayItem] = Field(min_length=1)
    next: Target
    on_error: Target

    def targets(self) -> list[str]:
        return [self.next, self.on_error] + ([self.not_local] if self.not_local else [])


class TransactionNode(_Node):
    type: Literal["transaction"]
    action: Literal["topup", "suspend", "resume"]
    card_var: str | None = Field(None, description="For topup: variable holding the card PIN.")
    password_prompts: list[PromptId] = Field(min_length=1)
    wrong_password: list[PromptId] = Field(min_length=1)
    attempts_per_call: int = Field(3, ge=1, le=10)
    lock_after: int = Field(5, ge=1, le=50, description="Failures across calls that lock.")
    say: list[SayItem] = Field(default_factory=list, description="Read out on success.")
    next: Target
    failed: Target
    locked: Target
    on_error: Target

    def targets(self) -> list[str]:
        return [self.next, self.failed, self.locked, self.on_error]


class SetNode(_Node):
    type: Literal["set"]
    vars: dict[str, str | int | bool] = Field(default_factory=dict)
    language: Literal["zh", "en"] | None = None
    next: Target

    def targets(self) -> list[str]:
        return [self.next]


class SplitNode(_Node):
    type: Literal["split"]
    ratios: dict[Target, Annotated[int, Field(ge=0)]] = Field(
        min_length=2, description="Target -> weight (0 or more)."
    )

    def targets(self) -> list[str]:
        return list(self.ratios)


class CapNode(_Node):
    type: Literal["cap"]
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    period: Literal["daily", "monthly"]
    limit: int = Field(ge=1)
    next: Target
    over: Target

    def targets(self) -> list[str]:
        return [self.next, self.over]


class GotoNode(_Node):
    type: Literal["goto"]
    to: Target

    def targets(self) -> list[str]:
        return [self.to]


class SubNode(_Node):
    type: Literal["sub"]
    call: Target = Field(description="First node of the sub-menu; 'return' comes back here.")
    next: Target = Field(description="Where the call goes on after the sub-menu returns.")

    def targets(self) -> list[str]:
        return [self.call, self.next]


class TransferNode(_Node):
    type: Literal["transfer"]
    prompts: list[PromptId] = Field(default_factory=list)
    to: str = Field(pattern=r"^[0-9*#+]+$")


class QueueNode(_Node):
    type: Literal["queue"]
    prompts: list[PromptId] = Field(default_factory=list)
    queue: str | None = Field(
        None,
        pattern=r"^[a-z][a-z0-9-]*$",
        description="The ACD queue (config/acd.yaml) the call waits in for an agent.",
    )
    skills: dict[str, int] = Field(default_factory=dict, description="Skill -> minimum level.")
    priority: int = Field(0, ge=0, le=100)
    ring: str = Field(
        pattern=r"^[0-9*#+]+$",
        description="The seat to ring when the ACD cannot take the call (no queue, ACD down).",
    )
    after_agent: Target | None = Field(
        None, description="Where the caller goes once the agent hangs up (e.g. a survey)."
    )

    def targets(self) -> list[str]:
        return [self.after_agent] if self.after_agent else []


class SurveyNode(_Node):
    type: Literal["survey"]
    prompts: list[PromptId] = Field(min_length=1)
    answers: dict[Key, str] = Field(min_length=1, description="Key -> recorded answer.")
    timeout: float = Field(5.0, gt=0, le=60)
    thanks: list[PromptId] = Field(default_factory=list)
    next: Target

    def targets(self) -> list[str]:
        return [self.next]


class HangupNode(_Node):
    type: Literal["hangup"]
    prompts: list[PromptId] = Field(default_factory=list)
    outcome: str = Field("self-service", pattern=r"^[a-z][a-z0-9-]*$")


Node = Annotated[
    PlayNode
    | MenuNode
    | CollectNode
    | BranchNode
    | LookupNode
    | QueryNode
    | TransactionNode
    | SetNode
    | SplitNode
    | CapNode
    | GotoNode
    | SubNode
    | TransferNode
    | QueueNode
    | SurveyNode
    | HangupNode,
    Field(discriminator="type"),
]

NODE_TYPES: tuple[type[_Node], ...] = (
    PlayNode,
    MenuNode,
    CollectNode,
    BranchNode,
    LookupNode,
    QueryNode,
    TransactionNode,
    SetNode,
    SplitNode,
    CapNode,
    GotoNode,
    SubNode,
    TransferNode,
    QueueNode,
    SurveyNode,
    HangupNode,
)


def type_name(node: Any) -> str:
    return str(getattr(node, "type", type(node).__name__))
