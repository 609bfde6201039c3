"""Read one YAML menu file safely, keeping the line of every key and value.

The file is read as a stream of YAML events (``yaml.parse``, libyaml when available) and
plain Python data is built from them here, without recursion, so that hostile or careless
input gives a clear problem instead of a crash, a hang or a silent surprise:

* files larger than ``MAX_BYTES`` are refused before they are parsed;
* collections nested deeper than ``MAX_DEPTH`` are refused as soon as they are seen;
* anchors and aliases (``&name``, ``*name``) are refused outright: menus do not need them
  and they are how "billion laughs" bombs explode a small file into a huge structure;
* a key used twice in one mapping is reported with both lines (PyYAML keeps the last
  silently: that is how an option pressed as ``1`` twice slips through);
* keys are always the source text: ``1:`` is ``"1"``, ``0:`` is ``"0"``, ``yes:`` is
  ``"yes"``. ``*`` and ``#`` must be quoted (``"*": back``, ``"#": repeat``): unquoted,
  ``*`` starts an alias and ``#`` starts a comment. A line like ``#: repeat`` is reported,
  since YAML would silently drop it;
* numbers written like times (``18:00``, YAML 1.1 reads it as 1080 in base 60) and dates
  stay text; explicit tags other than the plain ones (``!!python/...``, ``!!set``, ...)
  are refused.

``YamlSource.lines`` maps the path of every key and list item, e.g.
``("nodes", "main", "options", "1")``, to its 1-based line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 30

YamlPath = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_COLLECTION_TAGS = {None, "!", _TAG + "map", _TAG + "seq"}
_EATEN_HASH_KEY = re.compile(r"^\s*(-\s+)?#\s*:(\s|$)")
_NO_ALIASES = "are not allowed in menu files; write the values out"
_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class YamlProblem:
    line: int  # 1-based; 0 for the file as a whole
    reason: str


EMPTY = YamlProblem(0, "the file is empty")


class YamlSourceError(Exception):
    def __init__(self, problems: Sequence[YamlProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(f"line {p.line}: {p.reason}" for p in self.problems))


@dataclass(frozen=True)
class YamlSource:
    data: Any
    lines: Mapping[YamlPath, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int:
        """The line of the key or item at ``path``, else of its nearest parent found."""
        here = tuple(path)
        while here and here not in self.lines:
            here = here[:-1]
        return self.lines.get(here, 1)


def located(problem: str, source: YamlSource) -> str:
    """``"line N: where: what"`` for a ``"where: what"`` problem whose where is a dotted
    path into the file (``queues.vip.priority``); the line of the nearest part found."""
    where = problem.partition(": ")[0]
    path = tuple(int(part) if part.isdigit() else part for part in where.split("."))
    return f"line {source.line_of(path)}: {problem}"


def read_limited(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a file, refused (without reading it all) when over ``max_bytes``."""
    try:
        with path.open("rb") as stream:
            content = stream.read(max_bytes + 1)
    except OSError as exc:
        raise YamlSourceError([YamlProblem(0, f"cannot read the file: {exc.strerror}")]) from exc
    if len(content) > max_bytes:
        raise YamlSourceError(
            [
                YamlProblem(
                    0, f"the file is larger than {_size(max_bytes)}; menu files must be smaller"
                )
            ]
        )
    return content


def parse_yaml(content: bytes | str, max_depth: int = MAX_DEPTH) -> YamlSource:
    """Plain data (dicts, lists, str, int, float, bool, None) and the line of every path."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = exc.object[: exc.start].count(b"\n") + 1
            raise YamlSourceError([YamlProblem(line, "the file is not UTF-8 text")]) from exc
    eaten = [
        YamlProblem(n, '"#:" starts a comment, so YAML ignores this line; write the key # as "#":')
        for n, text in enumerate(content.splitlines(), 1)
        if _EATEN_HASH_KEY.match(text)
    ]
    builder = _Builder(max_depth)
    try:
        for event in yaml.parse(content, Loader=_Parser):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in str(exc.problem):  # PyYAML >= 6.0.3 counts it too
            line = exc.problem_mark.line + 1 if exc.problem_mark else 1
            problem = YamlProblem(line, f"nested deeper than {max_depth} levels")
            raise YamlSourceError([*eaten, problem]) from exc
        raise YamlSourceError([*eaten, _syntax_problem(exc)]) from exc
    except yaml.reader.ReaderError as exc:  # a control character
        line = content[: exc.position].count("\n") + 1
        char: Any = exc.character
        code = char if isinstance(char, int) else ord(char)
        reason = f"the character #x{code:04x} is not allowed in YAML text"
        raise YamlSourceError([*eaten, YamlProblem(line, reason)]) from exc
    except _Refused as exc:
        raise YamlSourceError([*eaten, exc.problem]) from exc
    problems = eaten + builder.problems
    if problems:
        raise YamlSourceError(sorted(problems, key=lambda p: p.line))
    if builder.documents == 0:
        raise YamlSourceError([EMPTY])
    return YamlSource(builder.root, builder.lines)


class _Refused(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.problem = YamlProblem(line, reason)


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: YamlPath
    key: str | None = None  # a mapping's key waiting for its value
    key_lines: dict[str, int] = field(default_factory=dict)


class _Builder:
    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.lines: dict[YamlPath, int] = {}
        self.problems: list[YamlProblem] = []
        self.documents = 0
        self._resolver: Any = Resolver()

    def feed(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _Refused(line, "only one YAML document per file (remove the second ---)")
        elif isinstance(event, yaml.AliasEvent):
            raise _Refused(line, f"anchors and aliases (*{event.anchor}) {_NO_ALIASES}")
        elif isinstance(event, yaml.ScalarEvent | yaml.CollectionStartEvent):
            if event.anchor is not None:
                raise _Refused(line, f"anchors and aliases (&{event.anchor}) {_NO_ALIASES}")
            if isinstance(event, yaml.ScalarEvent):
                self._scalar(event, line)
            else:
                self._start(event, line)
        elif isinstance(event, yaml.CollectionEndEvent):
            self.stack.pop()

    def _scalar(self, event: yaml.ScalarEvent, line: int) -> None:
        top = self.stack[-1] if self.stack else None
        if top is not None and isinstance(top.container, dict) and top.key is None:
            if self._tag(event) == _TAG + "merge":
                raise _Refused(line, "merge keys (<<) are not allowed; write the keys out")
            self._key(top, event.value, line)
        else:
            self._add(_scalar_value(event, self._tag(event), line), line)

    def _key(self, top: _Frame, key: str, line: int) -> None:
        first = top.key_lines.get(key)
        if first is not None:
            where = ".".join(str(p) for p in (*top.path, key))
            self.problems.append(
                YamlProblem(
                    line, f"{where}: key {key!r} is used twice, on lines {first} and {line}"
                )
            )
        else:
            top.key_lines[key] = line
        top.key = key

    def _start(self, event: yaml.CollectionStartEvent, line: int) -> None:
        if event.tag not in _COLLECTION_TAGS:
            raise _Refused(line, f"the tag {_short(event.tag)} is not allowed in menu files")
        top = self.stack[-1] if self.stack else None
        if top is not None and isinstance(top.container, dict) and top.key is None:
            raise _Refused(line, "a key must be plain text, not a list or a mapping")
        if len(self.stack) >= self.max_depth:
            raise _Refused(line, f"nested deeper than {self.max_depth} levels")
        container: dict[str, Any] | list[Any] = (
            {} if isinstance(event, yaml.MappingStartEvent) else []
        )
        path = self._add(container, line)
        self.stack.append(_Frame(container, path))

    def _add(self, value: Any, line: int) -> YamlPath:
        if not self.stack:
            self.root = value
            self.lines[()] = line
            return ()
        top = self.stack[-1]
        if isinstance(top.container, dict):
            assert top.key is not None
            path = (*top.path, top.key)
            self.lines[path] = top.key_lines.get(top.key, line)
            top.container[top.key] = value
            top.key = None
        else:
            path = (*top.path, len(top.container))
            self.lines[path] = line
            top.container.append(value)
        return path

    def _tag(self, event: yaml.ScalarEvent) -> str:
        if event.tag is None or event.tag == "!":
            return str(self._resolver.resolve(ScalarNode, event.value, event.implicit))
        return str(event.tag)


_constructor = SafeConstructor()


def _scalar_value(event: yaml.ScalarEvent, tag: str, line: int) -> Any:
    text = event.value
    kind = tag.removeprefix(_TAG)
    if kind in ("str", "timestamp") or (kind in ("int", "float") and ":" in text):
        return text
    if kind == "null":
        return None
    if kind == "bool":
        return text.lower() in ("yes", "true", "on")
    if kind in ("int", "float"):
        node = ScalarNode(tag, text)
        try:
            if kind == "int":
                return _constructor.construct_yaml_int(node)
            return _constructor.construct_yaml_float(node)
        except ValueError as exc:  # more digits than Python converts
            raise _Refused(line, f"the number {text[:20]}... is too long") from exc
    raise _Refused(line, f"the tag {_short(tag)} is not allowed in menu files")


def _syntax_problem(exc: yaml.MarkedYAMLError) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 0
    parts = [p for p in (exc.context, exc.problem) if p]
    reason = "not valid YAML: " + ", ".join(parts)
    if exc.context_mark and mark and exc.context_mark.line != mark.line:
        reason += f" (it started on line {exc.context_mark.line + 1})"
    if "alias" in reason:
        reason += ' (a key * must be quoted: "*":)'
    return YamlProblem(line, reason)


def _short(tag: str | None) -> str:
    return str(tag).replace(_TAG, "!!")


def _size(count: int) -> str:
    return f"{count // 1024 // 1024} MiB" if count % (1024 * 1024) == 0 else f"{count} bytes"
