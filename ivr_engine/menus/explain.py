"""Turn pydantic validation errors into plain reasons, on the line of the offending key.

``nodes.main: unknown field 'optoins' (did you mean 'options'?)``,
``nodes.main.timeout: expected a number, got 'soon'``, ...
"""

from __future__ import annotations

import difflib
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter
from pydantic_core import ErrorDetails

from ground.yaml_source import YamlPath, YamlSource
from ivr_engine.menus.document import Dnis, MenuFile
from ivr_engine.menus.node_models import KEY_PATTERN, NODE_TYPES, PromptId, Target

NODE_TYPE_NAMES = tuple(str(get_args(m.model_fields["type"].annotation)[0]) for m in NODE_TYPES)
_MAPPING = "a mapping (key: value lines)"
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
}


def _pattern(annotation: Any) -> str:
    return str(TypeAdapter(annotation).json_schema()["pattern"])


_PATTERNS = {
    KEY_PATTERN: "is not a key: keys are 0 to 9, * and # (write * and # in quotes)",
    _pattern(Target): "is not a node id: use lowercase letters, digits, - and _",
    _pattern(PromptId): "is not a prompt id: use lowercase letters, digits, -, _ and /",
    _pattern(Dnis): "is not a dialled number: use digits only",
    r"^[0-9*#+]+$": "is not a phone number: use digits, *, # and +",
}


def display(path: YamlPath) -> str:
    """``("nodes", "b", "cases", 0, "when")`` -> ``nodes.b.cases[0].when``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def explain(errors: list[ErrorDetails], source: YamlSource) -> list[tuple[int, str]]:
    """(line, reason) for every error; union alternatives at one place become one reason."""
    found: dict[YamlPath, list[str]] = {}
    result: list[tuple[YamlPath, str]] = []
    for err in errors:
        path, model, branch = walk(err["loc"])
        if err["type"] == "union_tag_invalid":
            path = (*path, "type")
        if branch and err["type"] in _EXPECTED:
            found.setdefault(path, []).append(_EXPECTED[err["type"]])
            if len(found[path]) == 1:
                result.append((path, ""))
            continue
        result.append((path, _reason(err, path, model)))
    explained = []
    for path, reason in result:
        if not reason:
            value = describe(_at(source.data, path))
            *first, last = [e.replace(" or ", "/") for e in found[path]]
            expected = f"{', '.join(first)} or {last}" if first else last
            reason = f"expected {expected}, got {value}"
            reason = f"{display(path)}: {reason}" if path else reason
        explained.append((source.line_of(path), reason))
    return explained


def walk(loc: tuple[str | int, ...]) -> tuple[YamlPath, type[BaseModel] | None, bool]:
    """The part of a pydantic location that is in the YAML (union tags and ``[key]`` are
    not), the model holding its last part, and whether a union alternative was named."""
    path: list[str | int] = []
    current: Any = MenuFile
    holder: type[BaseModel] | None = None
    branch = False
    for part in loc:
        current = _unwrap(current)
        origin = get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            holder = current
            field = current.model_fields.get(str(part))
            current = field.annotation if field else None
            path.append(part)
        elif origin in (Union, types.UnionType):
            tagged = [m for m in get_args(current) if _tag(m) == part]
            current = tagged[0] if tagged else None
            branch = branch or not tagged
        elif origin is dict and part != "[key]":
            current = get_args(current)[1]
            path.append(part)
        elif origin is list and isinstance(part, int):
            current = get_args(current)[0]
            path.append(part)
        else:
            current = None
    return tuple(path), holder, branch


def _unwrap(annotation: Any) -> Any:
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType):
            members = [m for m in get_args(annotation) if m is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _tag(member: Any) -> str | None:
    member = _unwrap(member)
    if isinstance(member, type) and issubclass(member, BaseModel) and "type" in member.model_fields:
        annotation = member.model_fields["type"].annotation
        if get_origin(annotation) is Literal:
            return str(get_args(annotation)[0])
    return None


def _reason(err: ErrorDetails, path: YamlPath, model: type[BaseModel] | None) -> str:
    kind, ctx, value = err["type"], err.get("ctx", {}), err["input"]
    got = describe(value)
    where = display(path)
    if kind == "missing":
        where, text = display(path[:-1]), f"missing field {path[-1]!r}"
    elif kind == "extra_forbidden":
        where, text = display(path[:-1]), _unknown_field(str(path[-1]), model)
    elif kind == "union_tag_invalid":
        text = f"{ctx['tag']!r} is not a node type; use one of {', '.join(NODE_TYPE_NAMES)}"
    elif kind == "union_tag_not_found":
        text = f"missing field 'type' (one of {', '.join(NODE_TYPE_NAMES)})"
    elif kind in _EXPECTED:
        text = f"expected {_EXPECTED[kind]}, got {got}{_quote_hint(kind, value)}"
    elif kind == "string_pattern_mismatch":
        text = f"{got} {_PATTERNS.get(ctx['pattern'], 'does not match ' + ctx['pattern'])}"
    elif kind == "literal_error":
        text = f"expected {ctx['expected']}, got {got}"
    elif kind == "string_too_short":
        text = "must not be empty"
    elif kind == "too_short":
        noun = "entries" if ctx.get("field_type") == "Dictionary" else "items"
        text = f"needs at least {ctx['min_length']} {noun}".replace("1 entries", "1 entry")
        text = text.replace("1 items", "1 item")
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {"ge": "{} or more", "le": "{} or less", "gt": "more than {}", "lt": "less than {}"}
        key = next(k for k in bound if k in ctx)
        text = f"must be {bound[key].format(ctx[key])}, got {got}"
    elif kind == "value_error":
        text = str(ctx.get("error", err["msg"]))
        if path and text.startswith((f"{path[-1]}.", f"{path[-1]}:")):
            where = display(path[:-1])
            return f"{where}.{text}" if where else text
    else:
        text = f"{err['msg']}, got {got}"
    return f"{where}: {text}" if where else text


def _unknown_field(name: str, model: type[BaseModel] | None) -> str:
    fields = list(model.model_fields) if model else []
    close = difflib.get_close_matches(name, fields, n=1, cutoff=0.6)
    if close:
        return f"unknown field {name!r} (did you mean {close[0]!r}?)"
    tag = _tag(model)
    owner = f"a {tag} node has" if tag else "allowed here:"
    return f"unknown field {name!r} ({owner} {', '.join(fields)})"


def _quote_hint(kind: str, value: Any) -> str:
    if kind != "string_type":
        return ""
    if isinstance(value, bool):
        return " (YAML reads yes, no, on, off as true or false: put the value in quotes)"
    if isinstance(value, int | float):
        return " (put the value in quotes)"
    return ""


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else "?"


def _at(data: Any, path: YamlPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
