"""One menu file, as the pydantic model that validates it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ivr_engine.menus.node_models import Key, Node, Target

Dnis = Annotated[str, Field(pattern=r"^[0-9]+$")]


class FileDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Literal["zh", "en"] = "zh"
    keys: dict[Key, Target] = Field(
        default_factory=dict,
        description="Menu-wide keys, active in every menu of this file: e.g. 0 -> agent node,"
        " * -> back, # -> repeat.",
    )
    max_depth: int = Field(6, ge=1, le=20, description="Deepest menu nesting allowed.")


class MenuFile(BaseModel):
    """The contents of one YAML file in config/menus/."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    title: str | None = None
    entries: dict[Dnis, Target] = Field(
        default_factory=dict,
        description="Dialled number -> first node, for the numbers this file answers.",
    )
    defaults: FileDefaults = FileDefaults()
    nodes: dict[Target, Node] = Field(min_length=1)
