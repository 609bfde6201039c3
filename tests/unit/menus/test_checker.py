"""Graph checks, on small menus written inline."""

from __future__ import annotations

from typing import Any

from ivr_engine.menus.checker import LoadedFile, check, links, prompt_uses
from ivr_engine.menus.explain import NODE_TYPE_NAMES
from ivr_engine.menus.loader import load_file, load_menus
from ivr_engine.menus.node_models import (
    CollectNode,
    MenuNode,
    QueryNode,
    Retry,
    type_name,
)

from .test_loader import GOOD

EXTRA_NODES = [
    MenuNode(
        type="menu",
        prompts=["m"],
        options={"1": "a"},
        no_input=Retry(prompts=[["p1"], ["p2", "p3"]], then="b"),
        invalid=Retry(then="c"),
        keys={"0": None, "*": "d"},
    ),
    CollectNode(
        type="collect",
        prompts=["p"],
        store="v",
        next="a",
        no_input=Retry(then="b"),
        invalid=Retry(prompts=[["p4"]], then="c"),
    ),
    QueryNode(
        type="query", query="bill", not_local="x", say=[{"prompt": "s"}], next="a", on_error="b"
    ),
]


def at(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def test_links_and_prompt_uses_match_the_model() -> None:
    nodes = [*load_menus([GOOD]).nodes.values(), *EXTRA_NODES]
    assert {type_name(n) for n in nodes} == set(NODE_TYPE_NAMES)
    for node in nodes:
        found = links(node)
        assert sorted(t for _, t in found) == sorted(node.targets()), node
        dumped = node.model_dump()
        for path, target in found:
            assert path[0] == "ratios" or at(dumped, path) == target
        for path, prompt in prompt_uses(node):
            assert at(dumped, path) == prompt
    assert [p for _, p in prompt_uses(EXTRA_NODES[0])] == ["m", "p1", "p2", "p3"]


def loaded(*texts: str) -> list[LoadedFile]:
    files = []
    for i, text in enumerate(texts):
        file, problems = load_file(f"f{i}.yaml", text)
        assert file is not None, problems
        files.append(file)
    return files


def problems(*texts: str, prompts: Any = None) -> list[str]:
    return [str(p) for p in check(loaded(*texts), prompts)]


MENU = """
  {id}:
    type: menu
    prompts: [p]
    options: {{1: {to}}}"""
BYE = "\n  bye:\n    type: hangup\n"


def test_menu_wide_keys_are_edges() -> None:
    text = (
        'entries: {"1": a}\ndefaults:\n  keys: {"0": agent, "*": back}\nnodes:'
        + MENU.format(id="a", to="repeat")
        + "\n  agent:\n    type: transfer\n    to: '8001'\n"
    )
    assert problems(text) == []  # agent is reached, and a can leave through it


def test_overriding_a_menu_wide_key() -> None:
    head = 'entries: {"1": a}\ndefaults:\n  keys: {"0": bye}\nnodes:'
    base = head + MENU.format(id="a", to="bye") + BYE
    assert problems(base.replace("{1: bye}", "{0: bye}")) == [
        "f0.yaml:8: nodes.a.options.0: key 0 is also a menu-wide key (defaults.keys: 0 -> bye);"
        ' to use it for something else here, also set it in this menu\'s keys: ("0": null)'
    ]
    overridden = base.replace("{1: bye}", "{0: bye}\n    keys: {'0': null}")
    assert problems(overridden) == []
    # with the key turned off and no option, the menu cannot reach bye any more
    off = base.replace("{1: bye}", "{1: repeat}\n    keys: {'0': null}")
    assert problems(off) == [
        "f0.yaml:5: nodes.a: dead end: no hangup, transfer or queue can be reached from here",
        "f0.yaml:10: nodes.bye: unreachable: no entry leads to this node",
    ]


def test_nodes_are_shared_across_files() -> None:
    first = 'entries: {"1": a}\nnodes:' + MENU.format(id="a", to="bye")
    second = "nodes:" + BYE
    assert problems(first, second) == []
    assert problems(first) == ["f0.yaml:6: nodes.a.options.1: unknown node 'bye'"]


def test_entries_must_name_nodes() -> None:
    text = 'entries: {"1": bey, "2": back}\nnodes:' + BYE
    assert problems(text) == [
        "f0.yaml:1: entries.1: unknown node 'bey' (did you mean 'bye'?)",
        "f0.yaml:1: entries.2: an entry names a node, not 'back'",
        "f0.yaml:3: nodes.bye: unreachable: no entry leads to this node",
    ]
    assert problems("nodes:" + BYE) == [
        "f0.yaml: no file has entries: (dialled number -> first node)"
    ]
    assert problems('entries: {"1": bye}\ndefaults: {keys: {"0": agnet}}\nnodes:' + BYE) == [
        "f0.yaml:2: defaults.keys.0: unknown node 'agnet'"
    ]


def test_depth_counts_the_shortest_way() -> None:
    chain = "".join(MENU.format(id=f"m{i}", to=f"m{i + 1}") for i in range(1, 4))
    tail = MENU.format(id="m4", to="bye") + BYE
    text = 'entries: {"1": m1, "2": m3}\ndefaults: {max_depth: 2}\nnodes:' + chain + tail
    assert problems(text) == []  # m4 is the 2nd menu from entry 2
    deep = text.replace('"2": m3', '"2": m1')
    assert problems(deep) == [
        "f0.yaml:12: nodes.m3: menu nested 3 deep (m1 > m2 > m3); this file allows 2"
        " (defaults.max_depth)"
    ]


def test_sub_menus_and_return() -> None:
    text = """entries: {"1": s}
nodes:
  s:
    type: sub
    call: inner
    next: bye
  inner:
    type: play
    prompts: [p]
    next: return
  bye:
    type: hangup
"""
    assert problems(text) == []
    assert problems(text.replace("call: inner", "call: bye")) == [
        "f0.yaml:7: nodes.inner: unreachable: no entry leads to this node",
        "f0.yaml:10: nodes.inner.next: 'return' only works in a sub-menu, and no sub leads here",
    ]


def test_prompts_per_language() -> None:
    text = 'entries: {"1": bye}\ndefaults: {language: en}\nnodes:\n  bye:\n    type: hangup\n'
    text += "    prompts: [bye-bye]\n"
    assert problems(text, prompts={"en": {"bye-bye"}}) == []
    assert problems(text, prompts={"zh": {"bye-bye"}}) == [
        "f0.yaml:6: nodes.bye.prompts[0]: prompt 'bye-bye' is not in the catalogue for en"
    ]
    assert problems(text, prompts={"bye-bye"}) == []
    assert problems(text, prompts=set()) == [
        "f0.yaml:6: nodes.bye.prompts[0]: prompt 'bye-bye' is not in the catalogue"
    ]


def test_split_weights() -> None:
    text = """entries: {"1": s}
nodes:
  s:
    type: split
    ratios: {a: 0, b: 0}
  a:
    type: hangup
  b:
    type: hangup
"""
    assert problems(text) == [
        "f0.yaml:5: nodes.s.ratios: no weight is above 0: at least one must be",
    ]
    negative, refused = load_file("f0.yaml", text.replace("a: 0", "a: -1"))
    assert negative is None
    assert [str(p) for p in refused] == ["f0.yaml:5: nodes.s.ratios.a: must be 0 or more, got -1"]
