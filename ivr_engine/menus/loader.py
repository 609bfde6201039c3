"""Load the menu files into one checked ``MenuSet``, or refuse them all with ``MenuError``.

Every problem names FILE:LINE and a plain reason, for the people who edit the files:

    config/menus/main.yaml:12: nodes.main: unknown field 'optoins' (did you mean 'options'?)

A file is read safely (``yaml_source``), validated against ``MenuFile`` (``explain`` turns
pydantic's errors into reasons), then all files are merged: node ids are one namespace
and every dialled number belongs to one file. Graph checks (``checker``) run once every
file is valid. ``load_menus`` either returns a complete, consistent set or raises: the
caller (the registry) keeps the set it already has.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from pydantic import ValidationError

from ground.paths import PROJECT_ROOT
from ground.yaml_source import (
    MAX_BYTES,
    MAX_DEPTH,
    YamlSourceError,
    parse_yaml,
    read_limited,
)
from ivr_engine.menus.checker import LoadedFile, MenuProblem, PromptIds, check
from ivr_engine.menus.document import FileDefaults, MenuFile
from ivr_engine.menus.explain import describe, explain
from ivr_engine.menus.node_models import Node
from ivr_engine.prompts.catalogue import Prompt

MENUS_DIR = PROJECT_ROOT / "config" / "menus"
SUFFIXES = (".yaml", ".yml")
MAX_PROBLEMS_PER_FILE = 50

__all__ = ["MenuError", "MenuProblem", "MenuSet", "load_menus", "prompt_ids_by_language"]


@dataclass(frozen=True, eq=False)
class MenuSet:
    """One consistent version of all the menus; calls keep the version they started with."""

    version: str  # 12 hex digits of the sha256 of the files' names and contents
    files: tuple[Path, ...]
    nodes: Mapping[str, Node]
    locations: Mapping[str, tuple[str, int]]  # node id -> (file, line)
    entries: Mapping[str, str]  # dialled number -> node id
    file_defaults: Mapping[str, FileDefaults]  # file (as in locations) -> its defaults
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    sources: Mapping[str, bytes] = field(default_factory=dict)  # file name -> content read

    def defaults_for(self, node_id: str) -> FileDefaults:
        """The defaults (language, menu-wide keys, max_depth) of the file defining a node."""
        return self.file_defaults[self.locations[node_id][0]]


class MenuError(Exception):
    """The files were refused; ``problems`` says why, sorted by file and line."""

    def __init__(self, problems: Iterable[MenuProblem]) -> None:
        found = sorted(problems, key=lambda p: (p.file, p.line))
        self.total = len(found)
        self.problems = _limit(found)
        super().__init__("\n".join(str(p) for p in self.problems))


def _limit(problems: list[MenuProblem]) -> list[MenuProblem]:
    """At most MAX_PROBLEMS_PER_FILE per file, then one line saying how many more."""
    shown: list[MenuProblem] = []
    counts: dict[str, int] = {}
    for problem in problems:
        count = counts[problem.file] = counts.get(problem.file, 0) + 1
        if count <= MAX_PROBLEMS_PER_FILE:
            shown.append(problem)
        elif count == MAX_PROBLEMS_PER_FILE + 1:
            more = sum(p.file == problem.file for p in problems) - MAX_PROBLEMS_PER_FILE
            reason = f"{more} more problems from this line on are not shown"
            shown.append(MenuProblem(problem.file, problem.line, reason))
    return shown


def prompt_ids_by_language(prompts: Iterable[Prompt]) -> dict[str, frozenset[str]]:
    """The catalogue's prompt ids per language, as ``load_menus`` checks them."""
    found: dict[str, set[str]] = {}
    for prompt in prompts:
        found.setdefault(prompt.language, set()).add(prompt.prompt_id)
    return {language: frozenset(ids) for language, ids in found.items()}


def load_menus(
    paths: Sequence[Path],
    prompt_ids: PromptIds | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> MenuSet:
    """Load files and directories (their ``*.yaml`` / ``*.yml``, sorted) as one MenuSet.

    ``prompt_ids``: when given, every prompt must be in it; a mapping (language -> ids,
    see ``prompt_ids_by_language``) checks each file in its ``defaults.language``.
    """
    found, problems = menu_files(paths)
    contents: list[tuple[Path, bytes]] = []
    files: list[LoadedFile] = []
    for path in found:
        try:
            content = read_limited(path, max_bytes)
        except YamlSourceError as exc:
            problems += [MenuProblem(str(path), p.line, p.reason) for p in exc.problems]
            continue
        contents.append((path, content))
        loaded, file_problems = load_file(str(path), content, max_depth)
        problems += file_problems
        if loaded is not None:
            files.append(loaded)
    if problems:
        raise MenuError(problems)
    problems = _merge_problems(files) + check(files, prompt_ids)
    if problems:
        raise MenuError(problems)
    return _menu_set(files, contents)


def menu_files(paths: Sequence[Path]) -> tuple[list[Path], list[MenuProblem]]:
    """The files named, and those directly in the directories named (sorted), once each."""
    found: list[Path] = []
    problems: list[MenuProblem] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
            if not inside:
                problems.append(MenuProblem(str(path), 0, "no menu files (*.yaml, *.yml) here"))
        elif path.exists():
            inside = [path]
        else:
            problems.append(MenuProblem(str(path), 0, "no such file or directory"))
            inside = []
        for file in inside:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                found.append(file)
    if not paths:
        problems.append(MenuProblem("(none)", 0, "no menu files or directories given"))
    return found, problems


def load_file(
    name: str, content: bytes | str, max_depth: int = MAX_DEPTH
) -> tuple[LoadedFile | None, list[MenuProblem]]:
    """One file read and validated, or the problems (FILE:LINE: reason) that stop it."""
    try:
        source = parse_yaml(content, max_depth)
    except YamlSourceError as exc:
        return None, [MenuProblem(name, p.line, p.reason) for p in exc.problems]
    if not isinstance(source.data, dict):
        reason = "the file must be a mapping of entries:, defaults: and nodes:"
        return None, [MenuProblem(name, 1, f"{reason}; found {describe(source.data)}")]
    try:
        menu = MenuFile.model_validate(source.data)
    except ValidationError as exc:
        found = explain(exc.errors(include_url=False), source)
        return None, [MenuProblem(name, line, reason) for line, reason in found]
    return LoadedFile(name, menu, source), []


def _merge_problems(files: Sequence[LoadedFile]) -> list[MenuProblem]:
    problems: list[MenuProblem] = []
    nodes: dict[str, str] = {}
    entries: dict[str, str] = {}
    for file in files:
        for node_id in file.menu.nodes:
            line = file.source.line_of(("nodes", node_id))
            if node_id in nodes:
                reason = f"node id {node_id!r} is also defined at {nodes[node_id]}"
                reason += "; node ids are shared by all menu files"
                problems.append(MenuProblem(file.name, line, f"nodes.{node_id}: {reason}"))
            else:
                nodes[node_id] = f"{file.name}:{line}"
        for dnis in file.menu.entries:
            line = file.source.line_of(("entries", dnis))
            if dnis in entries:
                reason = f"number {dnis} is already answered at {entries[dnis]}"
                problems.append(MenuProblem(file.name, line, f"entries.{dnis}: {reason}"))
            else:
                entries[dnis] = f"{file.name}:{line}"
    return problems


def _menu_set(files: Sequence[LoadedFile], contents: Sequence[tuple[Path, bytes]]) -> MenuSet:
    digest = hashlib.sha256()
    for path, content in contents:
        digest.update(f"{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    nodes: dict[str, Node] = {}
    locations: dict[str, tuple[str, int]] = {}
    entries: dict[str, str] = {}
    for file in files:
        for node_id, node in file.menu.nodes.items():
            nodes[node_id] = node
            locations[node_id] = (file.name, file.source.line_of(("nodes", node_id)))
        entries.update(file.menu.entries)
    return MenuSet(
        version=digest.hexdigest()[:12],
        files=tuple(path for path, _ in contents),
        nodes=MappingProxyType(nodes),
        locations=MappingProxyType(locations),
        entries=MappingProxyType(entries),
        file_defaults=MappingProxyType({f.name: f.menu.defaults for f in files}),
        sources=MappingProxyType({path.name: content for path, content in contents}),
    )
