"""The versions a registry remembers: rollback steps back one version at a time, the
history is bounded, and activation writes the set into the directory safely."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ivr_engine.menus import registry as registry_module
from ivr_engine.menus.registry import (
    ActivationRefused,
    MenuRegistry,
    MenusRefused,
    UnknownVersion,
)

MENU = """entries: {"10086": hello}
nodes:
  hello: {type: hangup, prompts: [PROMPT], outcome: done}
"""


def _menu(prompt: str) -> bytes:
    return MENU.replace("PROMPT", prompt).encode()


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _registry(tmp_path: Path, prompt: str = "first") -> MenuRegistry:
    (tmp_path / "m.yaml").write_bytes(_menu(prompt))
    registry = MenuRegistry([tmp_path])
    registry.load()
    return registry


async def test_rollback_walks_back_and_activation_moves_forward(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    first = registry.current.version
    second = (await registry.activate({"m.yaml": _menu("second")})).version
    third = (await registry.activate({"m.yaml": _menu("third")})).version
    assert [v.version for v in registry.versions] == [third, second, first]
    assert registry.previous == second

    done = await registry.rollback()
    assert (done.version, done.previous, done.changed) == (second, third, True)
    assert (tmp_path / "m.yaml").read_bytes() == _menu("second")
    assert registry.previous == first
    assert (await registry.rollback()).version == first
    with pytest.raises(ActivationRefused):
        await registry.rollback()

    # Forward to the third version: a rollback from there goes back to the first.
    assert (await registry.activate(version=third)).version == third
    assert registry.previous == first
    assert (await registry.rollback()).version == first
    # Every version is remembered once, by when it first went live.
    assert [v.version for v in registry.versions] == [third, second, first]
    assert registry.known(second) is not None
    assert registry.known(second).texts() == {"m.yaml": _menu("second").decode()}  # type: ignore[union-attr]
    with pytest.raises(UnknownVersion):
        await registry.activate(version="0123456789ab")


async def test_an_edit_on_disk_is_a_version_too(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    first = registry.current.version
    (tmp_path / "m.yaml").write_bytes(_menu("edited"))
    edited = (await registry.reload()).version
    assert registry.previous == first
    assert (await registry.rollback()).version == first
    assert registry.known(edited) is not None


async def test_the_history_is_bounded_and_keeps_the_live_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_module, "MAX_VERSIONS", 3)
    registry = _registry(tmp_path, "p0")
    versions = [registry.current.version]
    for n in range(1, 6):
        versions.append((await registry.activate({"m.yaml": _menu(f"p{n}")})).version)
    assert [v.version for v in registry.versions] == versions[:2:-1]
    assert registry.current.version == versions[-1]
    assert (await registry.rollback()).version == versions[-2]
    assert (await registry.rollback()).version == versions[-3]
    with pytest.raises(ActivationRefused):  # the older ones are forgotten
        await registry.rollback()


async def test_check_changes_nothing_and_names_files_by_name(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    before = registry.current
    checked = registry.check({"m.yaml": _menu("second")})
    assert checked.version != before.version
    assert registry.current is before and registry.versions[0].version == before.version
    assert (tmp_path / "m.yaml").read_bytes() == _menu("first")
    with pytest.raises(MenusRefused) as refused:
        registry.check({"m.yaml": _menu("x"), "n.yaml": _menu("x")})
    files = {p.file for p in refused.value.problems}
    assert files <= {"m.yaml", "n.yaml"} and files
    assert all(
        str(tmp_path) not in p.reason and "/tmp" not in p.reason for p in refused.value.problems
    )
    with pytest.raises(MenusRefused) as refused:
        registry.check({"../m.yaml": _menu("x")})
    assert refused.value.problems[0].file == "../m.yaml"
    assert _names(tmp_path) == ["m.yaml"]


async def test_activation_writes_each_file_at_once_and_keeps_its_mode(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    (tmp_path / "m.yaml").chmod(0o640)
    done = await registry.activate({"m.yaml": _menu("second")})
    assert done.written == ("m.yaml",)
    assert (tmp_path / "m.yaml").stat().st_mode & 0o777 == 0o640
    assert _names(tmp_path) == ["m.yaml"]  # nothing half-written
    assert not registry.changed_on_disk()  # the registry saw its own write


async def test_a_refused_set_or_a_write_failure_leaves_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = _registry(tmp_path)
    live = registry.current.version
    with pytest.raises(MenusRefused):
        await registry.activate({"m.yaml": b"nodes: [\n"})
    assert (tmp_path / "m.yaml").read_bytes() == _menu("first")

    def no_space(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError):
        await registry.activate({"m.yaml": _menu("second")})
    assert _names(tmp_path) == ["m.yaml"]
    assert (tmp_path / "m.yaml").read_bytes() == _menu("first")
    assert registry.current.version == live


async def test_files_left_out(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    other = MENU.replace("10086", "10000").replace("hello", "hi").replace("PROMPT", "p")
    (tmp_path / "n.yaml").write_text(other)
    await registry.reload()
    both = registry.current.version
    # n.yaml as it is live: set aside as n.yaml.removed.
    done = await registry.activate({"m.yaml": _menu("first")})
    assert done.removed == ("n.yaml",)
    assert _names(tmp_path) == ["m.yaml", "n.yaml.removed"]
    assert "10000" not in registry.current.entries
    assert (await registry.activate(version=both)).written == ("n.yaml",)
    # n.yaml edited on disk (not live): left out of a set, it refuses the activation.
    (tmp_path / "n.yaml").write_text(other.replace("p]", "edited]"))
    with pytest.raises(ActivationRefused) as refused:
        await registry.activate({"m.yaml": _menu("first")})
    assert [p.file for p in refused.value.problems] == ["n.yaml"]
    assert "edited" in (tmp_path / "n.yaml").read_text()
    assert registry.current.version == both


async def test_activation_needs_one_directory(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_bytes(_menu("first"))
    registry = MenuRegistry([tmp_path / "m.yaml"])
    registry.load()
    with pytest.raises(ActivationRefused, match="directory"):
        await registry.activate({"m.yaml": _menu("second")})
    assert (tmp_path / "m.yaml").read_bytes() == _menu("first")
