"""Hostile YAML for the menus, config/acd.yaml and the engine settings: huge files, deep
nesting, alias bombs, tags that would run code, document streams, binary garbage, wrong
types at every level and unknown keys. Each is refused with the file, a line and a plain
reason: no crash, no hang (a generous time limit only detects one), and a refused reload
leaves the running menus exactly as they were."""

from __future__ import annotations

import asyncio
import copy
import random
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from acd.config import AcdConfigError, load_config
from ground.paths import PROJECT_ROOT
from ivr_engine.menus.loader import MenuError, load_file, load_menus
from ivr_engine.menus.registry import MenuRegistry, MenusRefused
from ivr_engine.settings import SettingsError, load_settings

GOOD = Path(__file__).parent / "good"
HANG = 20.0  # seconds: a hang detector, not a speed target
T = TypeVar("T")

BILLION_LAUGHS = "\n".join(
    ["a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']"]
    + [f"{chr(98 + n)}: &{chr(98 + n)} [{','.join(['*' + chr(97 + n)] * 9)}]" for n in range(8)]
).encode()
DEEP = b"nodes: " + b"[" * 10_000 + b"]" * 10_000 + b"\n"
DEEP_BLOCK = b"".join(b"  " * n + f"k{n}:\n".encode() for n in range(200)) + b"  " * 200 + b"x\n"
PYTHON_TAG = b'nodes: !!python/object/apply:os.system ["touch MARKER"]\n'
STREAM = b"entries: {}\n---\nnodes: {}\n"
MERGE = b"base: &b {type: hangup}\nnodes:\n  x:\n    <<: *b\n"
CONTROL = b"nodes:\n  x: \x07\n"
HOSTILE = {
    "alias-bomb": (BILLION_LAUGHS, "aliases"),
    "deep-flow": (DEEP, "nested deeper"),
    "deep-block": (DEEP_BLOCK, "nested deeper"),
    "python-tag": (PYTHON_TAG, "tag !!python/object/apply:os.system is not allowed"),
    "stream": (STREAM, "only one YAML document"),
    "merge": (MERGE, "aliases"),
    "control-char": (CONTROL, "#x0007"),
    "not-utf8": (b"nodes:\n  x: \xff\xfe\n", "not UTF-8"),
    "binary": (random.Random(1).randbytes(4096), ""),
    "long-number": (b"version: " + b"9" * 5000 + b"\n", ""),
}


def within(seconds: float, work: Callable[[], T]) -> T:
    """Run ``work`` in a thread; fail if it has not returned after ``seconds``."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: a hang"
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def _menu_problems(tmp_path: Path, content: bytes) -> list[str]:
    path = tmp_path / "hostile.yaml"
    path.write_bytes(content)
    with pytest.raises(MenuError) as caught:
        within(HANG, lambda: load_menus([path]))
    return [str(p) for p in caught.value.problems]


# -- menus ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_menu_files_are_refused_with_file_line_and_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    content, reason = HOSTILE[name]
    problems = _menu_problems(tmp_path, content)
    assert problems
    for problem in problems:
        file, line, text = problem.split(":", 2)
        assert file.endswith("hostile.yaml") and line.isdigit() and text.strip()
    assert any(reason in p for p in problems), problems
    assert not (tmp_path / "MARKER").exists()  # the tag ran nothing


def test_a_huge_menu_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as out:  # 50 MB of a valid-looking list
        out.write(b"nodes:\n")
        block = b"  - x\n" * 100_000
        for _ in range(84):
            out.write(block)
    with pytest.raises(MenuError) as caught:
        within(HANG, lambda: load_menus([path]))
    [problem] = caught.value.problems
    assert (problem.line, "larger than 1 MiB" in problem.reason) == (0, True)


def _paths(data: Any, here: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield here
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*here, key))
    elif isinstance(data, list):
        for n, value in enumerate(data):
            yield from _paths(value, (*here, n))


def _replace(data: Any, path: tuple[str | int, ...], value: Any) -> Any:
    if not path:
        return value
    changed = copy.deepcopy(data)
    parent = changed
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return changed


WRONG = [None, True, 7, -1.5, "", "text", [], ["a", 1], {}, {"x": {"y": [1]}}]


def test_wrong_types_at_every_level_give_problems_never_a_crash() -> None:
    """Every value of a real menu file replaced, in turn, by values of other types: the
    loader answers with problems that name a line of the file, or (when the wrong value
    happens to be allowed there) a loaded file; it never raises."""
    text = (GOOD / "main.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    rng = random.Random(5)
    paths = list(_paths(data))
    refused = 0
    for path in paths:
        for value in rng.sample(WRONG, 3):
            content = yaml.safe_dump(_replace(data, path, value), allow_unicode=True)
            loaded, problems = load_file("main.yaml", content)
            assert (loaded is None) == bool(problems), (path, value)
            for problem in problems:
                assert problem.file == "main.yaml" and problem.line >= 1, problem
                assert problem.reason.strip(), problem
            refused += bool(problems)
    assert refused > len(paths)  # most of them are wrong, and said so


def test_an_unknown_key_in_any_mapping_is_named_with_its_line() -> None:
    data = yaml.safe_load((GOOD / "main.yaml").read_text(encoding="utf-8"))
    mappings = [p for p in _paths(data) if isinstance(_at(data, p), dict)]
    for path in mappings:
        changed = copy.deepcopy(data)
        _at(changed, path)["colour_of_the_menu"] = "blue"
        content = yaml.safe_dump(changed, allow_unicode=True)
        loaded, problems = load_file("main.yaml", content)
        if loaded is not None:  # a mapping whose keys are names (entries, options, ...)
            continue
        assert problems and all(p.line >= 1 and p.reason for p in problems), (path, problems)
        named = [p for p in problems if "colour_of_the_menu" in p.reason]
        if path and path[-2:-1] == ("nodes",):  # a node: its unknown field is named
            assert named, (path, problems)


def _at(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@pytest.mark.parametrize("name", ["alias-bomb", "python-tag", "deep-flow", "binary"])
async def test_a_hostile_reload_or_validation_leaves_the_running_menus_untouched(
    tmp_path: Path, name: str
) -> None:
    menus = tmp_path / "menus"
    shutil.copytree(GOOD, menus)
    registry = MenuRegistry([menus])
    registry.load()
    running = registry.current
    content, _ = HOSTILE[name]
    async with asyncio.timeout(HANG):
        with pytest.raises(MenusRefused):
            await registry.validate({"main.yaml": content, "english.yml": b"x: 1\n"})
        assert registry.current is running
        (menus / "hostile.yaml").write_bytes(content)
        result = await registry.reload()
    assert not result.changed and result.version == running.version
    assert any("hostile.yaml:" in p for p in result.problems), result.problems
    assert registry.current is running
    assert [v.version for v in registry.versions] == [running.version]


# -- config/acd.yaml ----------------------------------------------------------------------

ACD = (PROJECT_ROOT / "config" / "acd.yaml").read_text(encoding="utf-8")
IDS = "ids: 8003-8004"


def _acd_problems(tmp_path: Path, content: bytes) -> list[str]:
    path = tmp_path / "acd.yaml"
    path.write_bytes(content)
    with pytest.raises(AcdConfigError) as caught:
        within(HANG, lambda: load_config(path))
    assert str(caught.value).startswith(str(path) + ": ")
    return caught.value.problems


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_acd_files_are_refused_with_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    content, reason = HOSTILE[name]
    problems = _acd_problems(tmp_path, content)
    assert all(p.startswith(("line ", "not valid YAML: line ")) for p in problems), problems
    assert any(reason in p for p in problems), problems
    assert not (tmp_path / "MARKER").exists()


def test_a_huge_acd_file_is_refused(tmp_path: Path) -> None:
    content = ACD.encode() + b"#" * (2 * 1024 * 1024)
    assert any("larger than" in p for p in _acd_problems(tmp_path, content))


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (IDS, "ids: 1-99999999999", "more than 10000 agents"),
        (IDS, IDS + '\n    name: "{id:>999999999}"', "{id} only"),
        (IDS, IDS + '\n    endpoint: "{id.__class__}"', "{id} only"),
        (IDS, IDS + '\n    name: "Agent {"', "{id} only"),
        ("version: 1", "version: [1]", "version"),
        ("version: 1", "version: 1\ncolour: blue", "colour"),
    ],
    ids=["huge-range", "format-spec", "attribute", "brace", "wrong-type", "unknown-key"],
)
def test_acd_values_that_would_eat_memory_or_crash_are_refused_with_their_line(
    tmp_path: Path, old: str, new: str, reason: str
) -> None:
    assert ACD.count(old) >= 1, old
    content = ACD.replace(old, new, 1)
    problems = _acd_problems(tmp_path, content.encode())
    line = content[: content.index(new)].count("\n") + 1
    found = [p for p in problems if reason in p]
    assert found, problems
    assert any(p.startswith((f"line {line}: ", f"line {line + 1}: ")) for p in found), found


# -- the engine settings ------------------------------------------------------------------

SECRET = "Very-Secret-1234"


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_settings_files_are_refused_without_quoting_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    content, reason = HOSTILE[name]
    path = tmp_path / "engine.yaml"
    path.write_bytes(b"ami:\n  secret: " + SECRET.encode() + b"\n" + content)
    with pytest.raises(SettingsError) as caught:
        within(HANG, lambda: load_settings(path, environ={}))
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "line " in message
    assert SECRET not in message
    assert reason in message or not reason
    assert not (tmp_path / "MARKER").exists()


def test_a_huge_settings_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "engine.yaml"
    path.write_bytes(b"agi:\n  port: 4573\n" + b"#" * (50 * 1024 * 1024))
    with pytest.raises(SettingsError, match="larger than"):
        within(HANG, lambda: load_settings(path, environ={}))


def test_wrong_settings_say_the_line_or_the_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "engine.yaml"
    path.write_text("agi:\n  host: 127.0.0.1\n  port: [4573]\nami:\n  secret: " + SECRET + "\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(path, environ={"IVR_ENGINE_AMI__PORT": "not-a-port"})
    message = str(caught.value)
    assert "line 3: agi.port: " in message
    assert "IVR_ENGINE_AMI__PORT: ami.port: " in message
    assert SECRET not in message
    path.write_text("# only comments\n")
    assert load_settings(path, environ={}).agi.port == 4573  # an empty file is the defaults
    path.write_text("agi:\n  colour: blue\n")
    with pytest.raises(SettingsError, match=r"line 2: agi\.colour: "):
        load_settings(path, environ={})
