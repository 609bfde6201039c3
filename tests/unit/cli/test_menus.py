"""The ``check`` command: exit codes and output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr_engine.cli import menus as cli
from ivr_engine.prompts.catalogue import CatalogueError, Prompt
from tests.unit.menus.test_loader import GOOD, GOOD_PROMPTS, HERE


@pytest.fixture(autouse=True)
def catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    prompts = [Prompt(p, lang, "text") for lang, ids in GOOD_PROMPTS.items() for p in ids]
    monkeypatch.setattr(cli, "load_catalogue", lambda: prompts)


def test_good_menus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    result = CliRunner().invoke(cli.check, ["good"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith(
        "OK: 3 files, 23 nodes, entries 10080 -> billing, 10086 -> identify, 10088 -> en-main"
        " (version "
    )
    assert len(result.stdout.strip().split("version ")[1]) == len("abc123def456)")


def test_broken_menus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    result = CliRunner().invoke(cli.check, ["broken/unreachable.yaml", "broken/wrong_type.yaml"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "broken/wrong_type.yaml:9: nodes.main.timeout: expected a number, got 'soon'",
        "broken/wrong_type.yaml:12: nodes.bye.to: expected text, got 12580"
        " (put the value in quotes)",
        "2 problems: the menus were not loaded",
    ]


def test_prompts_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(GOOD, tmp_path / "menus")
    monkeypatch.setattr(cli, "load_catalogue", lambda: [])
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.check, ["menus", "--prompts"])
    assert result.exit_code == 1
    assert "menus/main.yaml:29: nodes.night.prompts[0]: prompt 'night-service' is not in the" in (
        result.stderr
    )
    result = CliRunner().invoke(cli.check, ["menus", "--no-prompts"])
    assert result.exit_code == 0, result.output


def test_bad_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> list[Prompt]:
        raise CatalogueError("prompts/catalogue.yaml: bad prompt id 'X'")

    monkeypatch.setattr(cli, "load_catalogue", broken)
    result = CliRunner().invoke(cli.check, [str(GOOD)])
    assert (result.exit_code, result.stderr) == (1, "prompts/catalogue.yaml: bad prompt id 'X'\n")


def test_default_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    menus = tmp_path / "config" / "menus"
    shutil.copytree(GOOD, menus)
    monkeypatch.setattr(cli, "MENUS_DIR", menus)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.check, [])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: 3 files, 23 nodes")
    (menus / "main.yaml").write_text("nodes: [\n")
    result = CliRunner().invoke(cli.check, [])
    assert result.exit_code == 1
    assert result.stderr.startswith("config/menus/main.yaml:2: not valid YAML")
