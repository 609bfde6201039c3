"""The catalogue loader: ids, languages and texts are checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_engine.prompts.catalogue import CatalogueError, Prompt, load_catalogue


def load(tmp_path: Path, text: str) -> list[Prompt]:
    path = tmp_path / "catalogue.yaml"
    path.write_text(text, encoding="utf-8")
    return load_catalogue(path)


def test_entries_per_language(tmp_path: Path) -> None:
    prompts = load(tmp_path, "welcome:\n  zh: 您好\n  en: ' Welcome. '\nnum/liang:\n  zh: 两\n")
    assert prompts == [
        Prompt("welcome", "zh", "您好"),
        Prompt("welcome", "en", "Welcome."),
        Prompt("num/liang", "zh", "两"),
    ]


def test_empty_file(tmp_path: Path) -> None:
    assert load(tmp_path, "# nothing yet\n") == []


def test_shipped_catalogue() -> None:
    prompts = load_catalogue()
    keys = [(p.prompt_id, p.language) for p in prompts]
    assert len(keys) == len(set(keys))
    ids = {p.prompt_id for p in prompts}
    assert {"welcome", "num/0", "num/liang", "money/yuan", "key/star"} <= ids
    assert Prompt("num/100", "zh", "百") in prompts
    assert Prompt("num/hundred", "en", "hundred") in prompts


@pytest.mark.parametrize(
    "prompt_id",
    [
        "Welcome",
        "/num/5",
        "num/5/",
        "num//5",
        "num/../5",
        "-num",
        "num/-5",
        "num 5",
        "num\\5",
        "num.5",
        "数字",
        "''",
        "5",  # YAML reads it as an int
        "null",
    ],
)
def test_bad_ids(tmp_path: Path, prompt_id: str) -> None:
    with pytest.raises(CatalogueError, match="bad prompt id"):
        load(tmp_path, f"{prompt_id}:\n  en: five\n")


@pytest.mark.parametrize("language", ["fr", "ZH", "cmn", "zh-CN", "1"])
def test_unknown_language(tmp_path: Path, language: str) -> None:
    with pytest.raises(CatalogueError, match="unknown language"):
        load(tmp_path, f"num/5:\n  zh: 五\n  {language}: cinq\n")


@pytest.mark.parametrize("text", ["''", "'   '", "", "5", "[five]"])
def test_empty_text(tmp_path: Path, text: str) -> None:
    with pytest.raises(CatalogueError, match=r"num/5\.en: empty text"):
        load(tmp_path, f"num/5:\n  en: {text}\n")


@pytest.mark.parametrize("texts", ["five", "[zh, en]", ""])
def test_texts_not_per_language(tmp_path: Path, texts: str) -> None:
    with pytest.raises(CatalogueError, match="expected texts per language"):
        load(tmp_path, f"num/5: {texts}\n")


def test_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="must map prompt ids"):
        load(tmp_path, "- welcome\n- goodbye\n")


def test_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"catalogue\.yaml"):
        load(tmp_path, "welcome:\n  zh: [unclosed\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"nowhere\.yaml"):
        load_catalogue(tmp_path / "nowhere.yaml")
