"""Loading menu files: the good set, and golden FILE:LINE: reason for every broken kind."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from ivr_engine.menus.checker import MenuProblem
from ivr_engine.menus.loader import MenuError, MenuSet, load_file, load_menus
from ivr_engine.menus.node_models import MenuNode, QueueNode
from ivr_engine.prompts.catalogue import Prompt

HERE = Path(__file__).parent
GOOD = HERE / "good"
ZH_PROMPTS = {
    *("night-service", "main-menu", "please-press", "please-press-again", "enter-card"),
    *("enter-password", "wrong-password", "topup-done", "rate-us", "thank-you-goodbye"),
    *("please-hold", "billing-menu", "your-balance-is", "your-bill-is", "more-menu", "offer"),
}
GOOD_PROMPTS = {"zh": frozenset(ZH_PROMPTS), "en": frozenset({"main-menu", "goodbye"})}


def test_good_set_loads() -> None:
    menus = load_menus([GOOD], GOOD_PROMPTS)
    assert isinstance(menus, MenuSet)
    assert [p.name for p in menus.files] == ["english.yml", "main.yaml", "services.yaml"]
    assert dict(menus.entries) == {"10088": "en-main", "10086": "identify", "10080": "billing"}
    assert len(menus.nodes) == 23
    assert isinstance(menus.nodes["main"], MenuNode)
    assert isinstance(menus.nodes["agent"], QueueNode)
    assert menus.locations["main"] == (str(GOOD / "main.yaml"), 31)
    assert menus.locations["to-shop"] == (str(GOOD / "services.yaml"), 65)
    assert menus.defaults_for("main").keys == {"0": "agent", "*": "back", "#": "repeat"}
    assert menus.defaults_for("main").max_depth == 4
    assert menus.defaults_for("billing").language == "zh"
    assert menus.defaults_for("en-main").language == "en"
    assert len(menus.version) == 12
    int(menus.version, 16)
    with pytest.raises(TypeError):
        menus.nodes["x"] = menus.nodes["main"]  # type: ignore[index]


def test_version_follows_names_and_contents(tmp_path: Path) -> None:
    version = load_menus([GOOD]).version
    copy = tmp_path / "copy"
    shutil.copytree(GOOD, copy)
    assert load_menus([copy]).version == version  # where the files are does not matter
    files = sorted(copy.iterdir())
    assert load_menus(files).version == version
    main = copy / "main.yaml"
    main.write_text(main.read_text() + "# a comment\n")
    assert load_menus([copy]).version != version


def test_flat_prompt_ids_and_catalogue_ids() -> None:
    flat = GOOD_PROMPTS["zh"] | GOOD_PROMPTS["en"]
    assert load_menus([GOOD], flat).nodes
    with pytest.raises(MenuError) as caught:
        load_menus([GOOD], flat - {"offer"})
    assert [p.reason for p in caught.value.problems] == [
        "nodes.offer-play.prompts[0]: prompt 'offer' is not in the catalogue"
    ]
    zh_only = {"zh": GOOD_PROMPTS["zh"] | {"goodbye"}, "en": frozenset({"main-menu"})}
    with pytest.raises(MenuError) as caught:
        load_menus([GOOD], zh_only)
    assert [p.reason for p in caught.value.problems] == [
        "nodes.en-goodbye.prompts[0]: prompt 'goodbye' is not in the catalogue for en"
    ]


def test_prompt_ids_by_language() -> None:
    from ivr_engine.menus.loader import prompt_ids_by_language

    prompts = [Prompt("a", "zh", "甲"), Prompt("a", "en", "A"), Prompt("b", "zh", "乙")]
    assert prompt_ids_by_language(prompts) == {"zh": {"a", "b"}, "en": {"a"}}


GOLDEN: dict[str, tuple[list[str], list[str]]] = {
    "wrong type of field": (
        ["wrong_type.yaml"],
        [
            "broken/wrong_type.yaml:9: nodes.main.timeout: expected a number, got 'soon'",
            "broken/wrong_type.yaml:12: nodes.bye.to: expected text, got 12580"
            " (put the value in quotes)",
        ],
    ),
    "unknown field": (
        ["unknown_field.yaml"],
        [
            "broken/unknown_field.yaml:4: nodes.main: missing field 'options'",
            "broken/unknown_field.yaml:7: nodes.main: unknown field 'optoins'"
            " (did you mean 'options'?)",
            "broken/unknown_field.yaml:12: nodes.bye: unknown field 'colour'"
            " (a hangup node has note, type, prompts, outcome)",
        ],
    ),
    "unknown node type": (
        ["unknown_type.yaml"],
        [
            "broken/unknown_type.yaml:5: nodes.main.type: 'manu' is not a node type; use one of"
            " play, menu, collect, branch, lookup, query, transaction, set, split, cap, goto,"
            " sub, transfer, queue, survey, hangup"
        ],
    ),
    "unknown target": (
        ["unknown_target.yaml"],
        [
            "broken/unknown_target.yaml:8: nodes.main.options.1: unknown node 'billing-menu'"
            " (did you mean 'billing'?)",
            "broken/unknown_target.yaml:10: nodes.billing: unreachable: no entry leads to this"
            " node",
        ],
    ),
    "unreachable node": (
        ["unreachable.yaml"],
        ["broken/unreachable.yaml:11: nodes.old-promo: unreachable: no entry leads to this node"],
    ),
    "missing prompt": (
        ["missing_prompt.yaml"],
        [
            "broken/missing_prompt.yaml:8: nodes.main.prompts[1]: prompt 'main-menu-2' is not in"
            " the catalogue for en (did you mean 'main-menu'?)",
            "broken/missing_prompt.yaml:13: nodes.bye.prompts[0]: prompt 'goodby' is not in the"
            " catalogue for en (did you mean 'goodbye'?)",
        ],
    ),
    "dead end": (
        ["dead_end.yaml"],
        [
            "broken/dead_end.yaml:10: nodes.info: dead end: no hangup, transfer or queue can be"
            " reached from here"
        ],
    ),
    "loop with no exit": (
        ["loop.yaml"],
        [
            "broken/loop.yaml:12: nodes.ask-again: loop with no exit: ask-again -> count -> check"
            " -> ask-again: no hangup, transfer or queue can be reached from here"
        ],
    ),
    "too deep": (
        ["too_deep.yaml"],
        [
            "broken/too_deep.yaml:18: nodes.three: menu nested 3 deep (one > two > three);"
            " this file allows 2 (defaults.max_depth)"
        ],
    ),
    "duplicate key in options": (
        ["duplicate_key.yaml"],
        [
            "broken/duplicate_key.yaml:10: nodes.main.options.1: key '1' is used twice,"
            " on lines 8 and 10"
        ],
    ),
    "option colliding with a menu-wide key": (
        ["key_collision.yaml"],
        [
            "broken/key_collision.yaml:11: nodes.main.options.0: key 0 is also a menu-wide key"
            " (defaults.keys: 0 -> agent); to use it for something else here, also set it in"
            ' this menu\'s keys: ("0": null)'
        ],
    ),
    "duplicate node id across files": (
        ["duplicate_id_a.yaml", "duplicate_id_b.yaml"],
        [
            "broken/duplicate_id_b.yaml:7: nodes.bye: node id 'bye' is also defined at"
            " broken/duplicate_id_a.yaml:9; node ids are shared by all menu files"
        ],
    ),
    "alias refused": (
        ["alias.yaml"],
        [
            "broken/alias.yaml:4: anchors and aliases (&menu) are not allowed in menu files;"
            " write the values out"
        ],
    ),
    "too deeply nested": (
        ["too_nested.yaml"],
        ["broken/too_nested.yaml:6: nested deeper than 30 levels"],
    ),
    "not a mapping at the top": (
        ["not_mapping.yaml"],
        [
            "broken/not_mapping.yaml:1: the file must be a mapping of entries:, defaults: and"
            " nodes:; found a list"
        ],
    ),
    "invalid condition": (
        ["bad_condition.yaml"],
        [
            "broken/bad_condition.yaml:7: nodes.which.cases[0].when.weekday: days are mon, tue,"
            " wed, thu, fri, sat, sun; got ['funday']"
        ],
    ),
    "bad YAML syntax": (
        ["bad_syntax.yaml"],
        [
            "broken/bad_syntax.yaml:7: not valid YAML: while parsing a flow sequence, did not"
            " find expected ',' or ']' (it started on line 6)"
        ],
    ),
    "unquoted * and # keys": (
        ["unquoted_keys.yaml"],
        [
            'broken/unquoted_keys.yaml:5: "#:" starts a comment, so YAML ignores this line;'
            ' write the key # as "#":',
            "broken/unquoted_keys.yaml:6: not valid YAML: while scanning an alias, did not find"
            ' expected alphabetic or numeric character (a key * must be quoted: "*":)',
        ],
    ),
    "back and return with nowhere to go": (
        ["reserved.yaml"],
        [
            "broken/reserved.yaml:8: nodes.hello.next: 'back' needs a menu before it, but an"
            " entry leads here without passing a menu",
            "broken/reserved.yaml:14: nodes.main.options.2: 'return' only works in a sub-menu,"
            " and no sub leads here",
        ],
    ),
    "collect min above max, split all zero": (
        ["fields.yaml"],
        [
            "broken/fields.yaml:8: nodes.number.min: min (11) is more than max (4)",
            "broken/fields.yaml:13: nodes.pick.ratios: no weight is above 0: at least one must be",
        ],
    ),
}
PROMPTS = {"en": {"main-menu", "goodbye"}}


@pytest.mark.parametrize("kind", GOLDEN)
def test_golden_problems(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    names, expected = GOLDEN[kind]
    monkeypatch.chdir(HERE)
    prompts = PROMPTS if kind == "missing prompt" else None
    with pytest.raises(MenuError) as caught:
        load_menus([Path("broken", name) for name in names], prompts)
    assert [str(p) for p in caught.value.problems] == expected
    assert str(caught.value) == "\n".join(expected)


def test_every_broken_file_has_a_golden_case() -> None:
    used = {name for names, _ in GOLDEN.values() for name in names}
    assert used == {p.name for p in (HERE / "broken").iterdir()}


def test_oversized_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("huge.yaml").write_bytes(b"# padding\n" * 110_000)
    started = time.monotonic()
    with pytest.raises(MenuError) as caught:
        load_menus([Path("huge.yaml")])
    assert str(caught.value) == (
        "huge.yaml: the file is larger than 1 MiB; menu files must be smaller"
    )
    assert time.monotonic() - started < 0.5


def test_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("empty").mkdir()
    Path("empty/readme.txt").write_text("not a menu")
    with pytest.raises(MenuError) as caught:
        load_menus([Path("empty"), Path("missing.yaml")])
    assert str(caught.value).splitlines() == [
        "empty: no menu files (*.yaml, *.yml) here",
        "missing.yaml: no such file or directory",
    ]
    with pytest.raises(MenuError, match="no menu files or directories given"):
        load_menus([])
    # a file named twice (itself and through its directory) is loaded once
    assert len(load_menus([GOOD / "main.yaml", GOOD]).files) == 3


def test_problems_of_every_file_are_reported_sorted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    names = ["wrong_type.yaml", "alias.yaml", "unknown_type.yaml"]
    with pytest.raises(MenuError) as caught:
        load_menus([Path("broken", n) for n in names])
    found = [(p.file, p.line) for p in caught.value.problems]
    assert found == sorted(found)
    assert {f for f, _ in found} == {f"broken/{n}" for n in names}


def test_problems_are_limited_per_file(tmp_path: Path) -> None:
    path = tmp_path / "dups.yaml"
    path.write_text("nodes:\n" + "  a: 1\n" * 62)
    with pytest.raises(MenuError) as caught:
        load_menus([path])
    assert caught.value.total == 61
    assert len(caught.value.problems) == 51
    assert str(caught.value.problems[-1]) == (
        f"{path}:53: 11 more problems from this line on are not shown"
    )


def reasons(text: str) -> list[str]:
    loaded, problems = load_file("t.yaml", text)
    assert loaded is None
    return [f"{p.line}: {p.reason}" for p in problems]


NODE = "nodes:\n  n:\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "node: {}\n",
            ["1: missing field 'nodes'", "1: unknown field 'node' (did you mean 'nodes'?)"],
        ),
        (
            "version: 2\nnodes: {}\n",
            ["1: version: expected 1, got 2", "2: nodes: needs at least 1 entry"],
        ),
        (
            NODE + "    prompts: [a]\n",
            [
                "2: nodes.n: missing field 'type' (one of play, menu, collect, branch, lookup,"
                " query, transaction, set, split, cap, goto, sub, transfer, queue, survey, hangup)"
            ],
        ),
        (
            "nodes:\n  n: hello\n",
            ["2: nodes.n: expected a mapping (key: value lines), got 'hello'"],
        ),
        (
            NODE + "    type: set\n    next: x\n    vars:\n      v: [1]\n",
            ["6: nodes.n.vars.v: expected text, a whole number or true/false, got a list"],
        ),
        (
            NODE + "    type: goto\n    to: no\n",
            [
                "4: nodes.n.to: expected text, got false (YAML reads yes, no, on, off as true or"
                " false: put the value in quotes)"
            ],
        ),
        (
            NODE + "    type: menu\n    prompts: [A]\n    options: {x: a}\n",
            [
                "4: nodes.n.prompts[0]: 'A' is not a prompt id: use lowercase letters, digits,"
                " -, _ and /",
                "5: nodes.n.options.x: 'x' is not a key: keys are 0 to 9, * and # (write * and #"
                " in quotes)",
            ],
        ),
        (
            "entries: {x1: n}\n" + NODE + "    type: goto\n    to: Main Menu\n",
            [
                "1: entries.x1: 'x1' is not a dialled number: use digits only",
                "5: nodes.n.to: 'Main Menu' is not a node id: use lowercase letters, digits,"
                " - and _",
            ],
        ),
        (
            NODE + "    type: collect\n    prompts: []\n    store: v\n    max: 99\n    next: x\n"
            "    no_input: {max: 3}\n",
            [
                "4: nodes.n.prompts: needs at least 1 item",
                "6: nodes.n.max: must be 32 or less, got 99",
                "8: nodes.n.no_input: missing field 'then'",
            ],
        ),
        (
            NODE + "    type: query\n    query: bal\n    say: [{prompt: a}]\n    next: x\n"
            "    on_error: x\n",
            [
                "4: nodes.n.query: expected 'balance', 'charges', 'package', 'bill' or 'points',"
                " got 'bal'"
            ],
        ),
        (
            NODE + "    type: branch\n    default: x\n    cases:\n      - goto: x\n        when:\n"
            "          any: [{weekend: maybe}]\n",
            ["7: nodes.n.cases[0].when.any[0].weekend: expected true or false"],
        ),
    ],
)
def test_validation_reasons(text: str, expected: list[str]) -> None:
    assert reasons(text) == expected


def test_problem_without_a_line() -> None:
    assert str(MenuProblem("a.yaml", 0, "gone")) == "a.yaml: gone"
    assert str(MenuProblem("a.yaml", 3, "bad")) == "a.yaml:3: bad"


def test_hostile_inputs_finish_fast(tmp_path: Path) -> None:
    hostile = {
        "wide.yaml": "nodes:\n"
        + "".join(f"  n{i}: {{type: goto, to: n{i + 1}}}\n" for i in range(30_000)),
        "deep.yaml": "nodes: " + "{a: " * 100_000,
        "dups.yaml": "nodes:\n" + "  a: 1\n" * 100_000,
        "binary.yaml": "".join(chr(i % 200 + 32) for i in range(500_000)),
    }
    for name, text in hostile.items():
        (tmp_path / name).write_text(text)
        started = time.monotonic()
        with pytest.raises(MenuError):
            load_menus([tmp_path / name])
        assert time.monotonic() - started < 10, name
