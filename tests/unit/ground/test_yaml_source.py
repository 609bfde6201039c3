"""Safe YAML reading: plain data, line numbers, and refusals for hostile input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ground.yaml_source import YamlSourceError, parse_yaml, read_limited

TEXT = """\
options:
  1: billing
  0: agent
  "*": back
  "#": repeat
  yes: maybe
values: [1, 2.5, yes, ~, 18:00, 2024-10-01, "007", 0x1F]
nested:
  - a: 1
    b:
      c: deep
"""


def problems(text: str | bytes, **limits: int) -> list[tuple[int, str]]:
    with pytest.raises(YamlSourceError) as caught:
        parse_yaml(text, **limits)
    return [(p.line, p.reason) for p in caught.value.problems]


def test_keys_are_their_source_text() -> None:
    data = parse_yaml(TEXT).data
    assert data["options"] == {
        "1": "billing",
        "0": "agent",
        "*": "back",
        "#": "repeat",
        "yes": "maybe",
    }


def test_scalar_values() -> None:
    # times and dates stay text: YAML 1.1 would read 18:00 as 1080 (base 60)
    assert parse_yaml(TEXT).data["values"] == [1, 2.5, True, None, "18:00", "2024-10-01", "007", 31]


def test_lines_of_paths() -> None:
    source = parse_yaml(TEXT)
    assert source.line_of(()) == 1
    assert source.line_of(("options", "1")) == 2
    assert source.line_of(("options", "#")) == 5
    assert source.line_of(("values", 3)) == 7
    assert source.line_of(("nested", 0, "b", "c")) == 11
    # not in the file: the nearest parent
    assert source.line_of(("nested", 0, "b", "missing", 3)) == 10
    assert source.line_of(("nowhere",)) == 1


def test_duplicate_keys_name_both_lines() -> None:
    text = "a:\n  1: x\n  2: y\n  1: z\nb: 1\nb: 2\n"
    assert problems(text) == [
        (4, "a.1: key '1' is used twice, on lines 2 and 4"),
        (6, "b: key 'b' is used twice, on lines 5 and 6"),
    ]


def test_aliases_and_anchors_are_refused() -> None:
    assert problems("a: &x 1\n") == [
        (1, "anchors and aliases (&x) are not allowed in menu files; write the values out")
    ]
    assert problems("a: [1]\nb: *x\n") == [
        (2, "anchors and aliases (*x) are not allowed in menu files; write the values out")
    ]


def test_billion_laughs_is_refused_at_once() -> None:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    started = time.monotonic()
    assert problems("\n".join(lines))[0][0] == 1
    assert time.monotonic() - started < 0.5


def test_deep_nesting_is_refused_without_recursion() -> None:
    assert problems("a: " + "[" * 31 + "]" * 31) == [(1, "nested deeper than 30 levels")]
    assert parse_yaml("a: " + "[" * 29 + "]" * 29).data is not None
    started = time.monotonic()
    assert problems("[" * 200_000) == [(1, "nested deeper than 30 levels")]
    assert problems("a:\n  b: [[1]]\n", max_depth=3) == [(2, "nested deeper than 3 levels")]
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(0, "the file is empty")]),
        ("# only a comment\n", [(0, "the file is empty")]),
        ("a: 1\n---\nb: 2\n", [(2, "only one YAML document per file (remove the second ---)")]),
        ("a: " + "9" * 5000, [(1, "the number 99999999999999999999... is too long")]),
        (
            "a: !!python/object:os.system x",
            [(1, "the tag !!python/object:os.system is not allowed in menu files")],
        ),
        ("a: !!set {x, y}", [(1, "the tag !!set is not allowed in menu files")]),
        ("a:\n  <<: {b: 1}\n", [(2, "merge keys (<<) are not allowed; write the keys out")]),
        ("? [a]\n: 1\n", [(1, "a key must be plain text, not a list or a mapping")]),
        ("a: b\x00\n", [(1, "the character #x0000 is not allowed in YAML text")]),
        (b"a: 1\nb: \xff\n", [(2, "the file is not UTF-8 text")]),
        ("a: b\n c: d\n", [(2, "not valid YAML: mapping values are not allowed in this context")]),
    ],
)
def test_refusals(text: str | bytes, expected: list[tuple[int, str]]) -> None:
    assert problems(text) == expected


def test_unquoted_star_and_hash_keys() -> None:
    assert problems('keys:\n  #: repeat\n  "0": agent\n') == [
        (2, '"#:" starts a comment, so YAML ignores this line; write the key # as "#":')
    ]
    [(line, reason)] = problems("keys:\n  *: back\n")
    assert line == 2
    assert reason.endswith('(a key * must be quoted: "*":)')


def test_read_limited(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: 1\n" * 1000)
    assert read_limited(path, 5000) == b"a: 1\n" * 1000
    with pytest.raises(YamlSourceError) as caught:
        read_limited(path, 4999)
    assert str(caught.value) == (
        "line 0: the file is larger than 4999 bytes; menu files must be smaller"
    )
    with pytest.raises(YamlSourceError, match="cannot read the file"):
        read_limited(tmp_path / "missing.yaml")
