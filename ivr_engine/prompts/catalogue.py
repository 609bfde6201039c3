"""Read the prompt catalogue: prompt id -> text per language."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ground.paths import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"
CATALOGUE_FILE = PROMPTS_DIR / "catalogue.yaml"
LANGUAGES = ("zh", "en")
_PROMPT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$")


@dataclass(frozen=True)
class Prompt:
    prompt_id: str
    language: str
    text: str


class CatalogueError(Exception):
    """The catalogue file is malformed."""


def load_catalogue(path: Path | None = None) -> list[Prompt]:
    """One catalogue file, or (by default) every ``prompts/*.yaml`` file together."""
    if path is not None:
        return _load_file(path)
    prompts: list[Prompt] = []
    where: dict[tuple[str, str], Path] = {}
    for file in sorted(PROMPTS_DIR.glob("*.yaml")):
        for prompt in _load_file(file):
            key = (prompt.prompt_id, prompt.language)
            if key in where:
                raise CatalogueError(
                    f"{file}: {prompt.prompt_id}.{prompt.language} is already in {where[key]}"
                )
            where[key] = file
            prompts.append(prompt)
    return prompts


def _load_file(path: Path) -> list[Prompt]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: the catalogue must map prompt ids to texts")
    prompts: list[Prompt] = []
    for prompt_id, texts in raw.items():
        if not isinstance(prompt_id, str) or not _PROMPT_ID.match(prompt_id):
            raise CatalogueError(f"{path}: bad prompt id {prompt_id!r} (lowercase, digits, - _ /)")
        if not isinstance(texts, dict):
            raise CatalogueError(f"{path}: {prompt_id}: expected texts per language")
        for language, text in texts.items():
            if language not in LANGUAGES:
                raise CatalogueError(f"{path}: {prompt_id}: unknown language {language!r}")
            if not isinstance(text, str) or not text.strip():
                raise CatalogueError(f"{path}: {prompt_id}.{language}: empty text")
            prompts.append(Prompt(prompt_id, language, text.strip()))
    return prompts
