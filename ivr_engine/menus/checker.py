"""Graph checks over all the menu files at once, each problem on the line of its node or key.

Node ids are one namespace across files (the loader reports duplicates; here the first
definition counts). What is checked:

* every target (and entry, and menu-wide key) names a node or a reserved word; ``return``
  only where a ``sub`` can lead; ``back`` / ``repeat`` outside a menu only after a menu;
* every node is reachable from an entry (following targets and, in menus, the file's
  menu-wide keys);
* every prompt exists in the catalogue, in the language of the node's file;
* from every node a hangup, transfer or queue can be reached: a closed group of nodes that
  cannot is reported once, on its first node (a "dead end" for one node, else a "loop");
* no menu is nested deeper than its file's ``max_depth`` on its shortest path;
* an option key does not silently shadow a menu-wide key, ``collect`` has min <= max and
  ``split`` has a weight above 0.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ground.yaml_source import YamlPath, YamlSource
from ivr_engine.menus.document import MenuFile
from ivr_engine.menus.explain import display
from ivr_engine.menus.node_models import (
    RESERVED_TARGETS,
    CollectNode,
    GotoNode,
    HangupNode,
    MenuNode,
    QueueNode,
    Retry,
    SplitNode,
    SubNode,
    TransferNode,
)

PromptIds = Collection[str] | Mapping[str, Collection[str]]
"""Prompt ids: all of them, or per language (``{"zh": {...}, "en": {...}}``)."""

TERMINALS = (HangupNode, TransferNode, QueueNode)
_SIMPLE_TARGETS = (
    "next",
    "default",
    "on_error",
    "not_local",
    "failed",
    "locked",
    "over",
    "after_agent",
)
_NO_TERMINAL = "no hangup, transfer or queue can be reached from here"


@dataclass(frozen=True)
class MenuProblem:
    file: str
    line: int  # 0: the file as a whole
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.reason}"
            if self.line
            else f"{self.file}: {self.reason}"
        )


@dataclass(frozen=True)
class LoadedFile:
    name: str  # as shown in problems
    menu: MenuFile
    source: YamlSource


def links(node: BaseModel) -> list[tuple[YamlPath, str]]:
    """Every target of a node with its path inside the node (same targets as targets())."""
    values: dict[str, Any] = {name: value for name, value in node}
    found: list[tuple[YamlPath, str]] = []
    for name in ("options", "keys"):
        for key, target in (values.get(name) or {}).items():
            if target is not None:
                found.append(((name, key), target))
    for name in ("no_input", "invalid"):
        if isinstance(retry := values.get(name), Retry):
            found.append(((name, "then"), retry.then))
    for i, case in enumerate(values.get("cases") or []):
        found.append((("cases", i, "goto"), case.goto))
    if isinstance(node, SplitNode):
        found += [(("ratios", target), target) for target in node.ratios]
    if isinstance(node, GotoNode):
        found.append((("to",), node.to))
    if isinstance(node, SubNode):
        found.append((("call",), node.call))
    for name in _SIMPLE_TARGETS:
        if isinstance(target := values.get(name), str):
            found.append(((name,), target))
    return found


def prompt_uses(node: BaseModel) -> list[tuple[YamlPath, str]]:
    """Every prompt id a node plays, with its path inside the node."""
    values: dict[str, Any] = {name: value for name, value in node}
    found: list[tuple[YamlPath, str]] = []
    for name in ("prompts", "password_prompts", "wrong_password", "thanks"):
        found += [((name, i), p) for i, p in enumerate(values.get(name) or [])]
    for name in ("no_input", "invalid"):
        if isinstance(retry := values.get(name), Retry):
            for i, group in enumerate(retry.prompts):
                found += [((name, "prompts", i, j), p) for j, p in enumerate(group)]
    for i, item in enumerate(values.get("say") or []):
        if item.prompt:
            found.append((("say", i, "prompt"), item.prompt))
    return found


def check(files: Sequence[LoadedFile], prompt_ids: PromptIds | None = None) -> list[MenuProblem]:
    if not files:
        return []
    graph = _Graph(files)
    graph.check_targets()
    graph.check_reachable()
    graph.check_reserved()
    graph.check_exits()
    graph.check_depth()
    graph.check_fields()
    if prompt_ids is not None:
        graph.check_prompts(prompt_ids)
    return sorted(graph.problems, key=lambda p: (p.file, p.line))


class _Graph:
    def __init__(self, files: Sequence[LoadedFile]) -> None:
        self.files = files
        self.owner: dict[str, LoadedFile] = {}
        for file in files:
            for node_id in file.menu.nodes:
                self.owner.setdefault(node_id, file)
        self.nodes = {i: f.menu.nodes[i] for i, f in self.owner.items()}
        self.links = {i: links(node) for i, node in self.nodes.items()}
        self.targets = {i: self._targets(i) for i in self.nodes}
        self.edges = {i: [t for t in ts if t in self.nodes] for i, ts in self.targets.items()}
        self.starts = [t for f in files for t in f.menu.entries.values() if t in self.nodes]
        self.problems: list[MenuProblem] = []

    def _targets(self, node_id: str) -> list[str]:
        node, file = self.nodes[node_id], self.owner[node_id]
        found = [t for _, t in self.links[node_id]]
        if isinstance(node, MenuNode):
            keys = file.menu.defaults.keys
            found += [t for k, t in keys.items() if k not in node.keys]
            found = [node_id if t == "repeat" else t for t in found]
        return found

    def report(self, file: LoadedFile, path: YamlPath, reason: str) -> None:
        where = display(path)
        line = file.source.line_of(path)
        self.problems.append(MenuProblem(file.name, line, f"{where}: {reason}"))

    def report_node(self, node_id: str, path: YamlPath, reason: str) -> None:
        self.report(self.owner[node_id], ("nodes", node_id, *path), reason)

    def line(self, node_id: str) -> tuple[str, int]:
        file = self.owner[node_id]
        return file.name, file.source.line_of(("nodes", node_id))

    def _unknown(self, target: str) -> str:
        close = difflib.get_close_matches(target, self.nodes, n=1)
        return f"unknown node {target!r}" + (f" (did you mean {close[0]!r}?)" if close else "")

    def check_targets(self) -> None:
        for file in self.files:
            for dnis, target in file.menu.entries.items():
                if target in RESERVED_TARGETS:
                    self.report(file, ("entries", dnis), f"an entry names a node, not {target!r}")
                elif target not in self.nodes:
                    self.report(file, ("entries", dnis), self._unknown(target))
            for key, target in file.menu.defaults.keys.items():
                if target not in self.nodes and target not in RESERVED_TARGETS:
                    self.report(file, ("defaults", "keys", key), self._unknown(target))
        for node_id, found in self.links.items():
            for path, target in found:
                if target not in self.nodes and target not in RESERVED_TARGETS:
                    self.report_node(node_id, path, self._unknown(target))

    def reach(self, starts: Iterable[str], through_menus: bool = True) -> set[str]:
        seen: set[str] = set()
        todo = deque(starts)
        while todo:
            node_id = todo.popleft()
            if node_id in seen:
                continue
            seen.add(node_id)
            if through_menus or not isinstance(self.nodes[node_id], MenuNode):
                todo.extend(self.edges[node_id])
        return seen

    def check_reachable(self) -> None:
        if not any(f.menu.entries for f in self.files):
            first = self.files[0]
            self.problems.append(
                MenuProblem(first.name, 0, "no file has entries: (dialled number -> first node)")
            )
            return
        reached = self.reach(self.starts)
        for node_id in self.nodes:
            if node_id not in reached:
                self.report_node(node_id, (), "unreachable: no entry leads to this node")

    def check_reserved(self) -> None:
        calls = [n.call for n in self.nodes.values() if isinstance(n, SubNode)]
        in_sub = self.reach(c for c in calls if c in self.nodes)
        reached = self.reach(self.starts, through_menus=False)
        before_menu = {i for i in reached if not isinstance(self.nodes[i], MenuNode)}
        for node_id, found in self.links.items():
            for path, target in found:
                if target == "return" and node_id not in in_sub:
                    reason = "'return' only works in a sub-menu, and no sub leads here"
                    self.report_node(node_id, path, reason)
                elif target in ("back", "repeat") and node_id in before_menu:
                    reason = f"{target!r} needs a menu before it, but an entry leads here"
                    self.report_node(node_id, path, reason + " without passing a menu")

    def check_exits(self) -> None:
        good = {
            i
            for i, node in self.nodes.items()
            if isinstance(node, TERMINALS) or any(t not in self.nodes for t in self.targets[i])
        }
        back: dict[str, list[str]] = {i: [] for i in self.nodes}
        for node_id, targets in self.edges.items():
            for target in targets:
                back[target].append(node_id)
        todo = deque(good)
        while todo:
            for source in back[todo.popleft()]:
                if source not in good:
                    good.add(source)
                    todo.append(source)
        stuck = {
            i: [t for t in self.edges[i] if t not in good] for i in self.nodes if i not in good
        }
        for group in _components(stuck):
            if any(t not in group for i in group for t in stuck[i]):
                continue  # it leads into another stuck group: that one is reported
            first = min(group, key=self.line)
            if len(group) == 1:
                self.report_node(first, (), f"dead end: {_NO_TERMINAL}")
            else:
                cycle = " -> ".join(_cycle(first, group, stuck))
                more = len(group) - cycle.count(" -> ")
                also = f" (and {more} more nodes of the loop)" if more else ""
                self.report_node(first, (), f"loop with no exit: {cycle}{also}: {_NO_TERMINAL}")

    def check_depth(self) -> None:
        depth: dict[str, int] = {}
        parent: dict[str, str | None] = {}
        todo: deque[str] = deque()
        for start in self.starts:
            if start not in depth:
                depth[start], parent[start] = self._cost(start), None
                todo.append(start)
        while todo:  # 0-1 breadth first: entering a menu costs 1
            node_id = todo.popleft()
            for target in self.edges[node_id]:
                cost = depth[node_id] + self._cost(target)
                if cost < depth.get(target, cost + 1):
                    depth[target], parent[target] = cost, node_id
                    if self._cost(target):
                        todo.append(target)
                    else:
                        todo.appendleft(target)
        for node_id, level in depth.items():
            limit = self.owner[node_id].menu.defaults.max_depth
            if not self._cost(node_id) or level <= limit:
                continue
            chain = [node_id]
            while (up := parent[chain[-1]]) is not None:
                chain.append(up)
            menus = [i for i in reversed(chain) if self._cost(i)]
            if any(depth[m] > self.owner[m].menu.defaults.max_depth for m in menus[:-1]):
                continue  # a menu before it is already too deep
            self.report_node(
                node_id,
                (),
                f"menu nested {level} deep ({' > '.join(menus)}); this file allows"
                f" {limit} (defaults.max_depth)",
            )

    def _cost(self, node_id: str) -> int:
        return 1 if isinstance(self.nodes[node_id], MenuNode) else 0

    def check_fields(self) -> None:
        for node_id, node in self.nodes.items():
            if isinstance(node, MenuNode):
                keys = self.owner[node_id].menu.defaults.keys
                for key in node.options:
                    if key in keys and key not in node.keys:
                        self.report_node(
                            node_id,
                            ("options", key),
                            f"key {key} is also a menu-wide key (defaults.keys: {key} ->"
                            f" {keys[key]}); to use it for something else here, also set it"
                            f' in this menu\'s keys: ("{key}": null)',
                        )
            elif isinstance(node, CollectNode) and node.min > node.max:
                self.report_node(
                    node_id, ("min",), f"min ({node.min}) is more than max ({node.max})"
                )
            elif isinstance(node, SplitNode):
                for target, weight in node.ratios.items():
                    if weight < 0:
                        self.report_node(node_id, ("ratios", target), "a weight must be 0 or more")
                if not any(w > 0 for w in node.ratios.values()):
                    self.report_node(
                        node_id, ("ratios",), "no weight is above 0: at least one must be"
                    )

    def check_prompts(self, prompt_ids: PromptIds) -> None:
        for node_id, node in self.nodes.items():
            language = self.owner[node_id].menu.defaults.language
            known = prompt_ids.get(language, ()) if isinstance(prompt_ids, Mapping) else prompt_ids
            where = f" for {language}" if isinstance(prompt_ids, Mapping) else ""
            for path, prompt in prompt_uses(node):
                if prompt not in known:
                    close = difflib.get_close_matches(prompt, list(known), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.report_node(
                        node_id, path, f"prompt {prompt!r} is not in the catalogue{where}{hint}"
                    )


def _cycle(first: str, group: set[str], edges: Mapping[str, list[str]]) -> list[str]:
    """The shortest way round from ``first`` back to it, inside ``group``."""
    came: dict[str, str] = {}
    todo = deque([first])
    while todo:
        node = todo.popleft()
        for target in edges[node]:
            if target == first:
                path = [node]
                while path[-1] != first:
                    path.append(came[path[-1]])
                return [*reversed(path), first]
            if target in group and target not in came:
                came[target] = node
                todo.append(target)
    return [first]


def _components(edges: Mapping[str, list[str]]) -> list[set[str]]:
    """Strongly connected components (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups
