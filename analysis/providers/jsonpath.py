"""Kubernetes JSONPath (``{.data.items[0].value}``), the dialect of the web provider's ``jsonPath``.

Argo runs the template with ``k8s.io/client-go/util/jsonpath`` and takes the first value of
``FindResults``. This module parses the same syntax and finds the same values for decoded JSON,
with the library's error texts where users see them (``x is not found``, ``array index out of
bounds: index 5, length 2``). Text outside braces is a result of its own, as in the library.

Supported inside ``{...}``: ``$`` and ``@``, ``.field``, ``['field']`` and ``["field"]`` (also
several, a union), ``.*`` and ``[*]``, ``..field`` (recursive descent), ``[i]``, ``[-i]``,
``[start:end:step]``, ``[i,j]``, and filters ``[?(@.path)]`` / ``[?(@.path OP literal)]`` with
``== != < <= > >=``. ``range``/``end`` loops and string literals are rejected with a clear
error: a metric needs one value, not a rendered listing. Pure and bounded by the input size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from analysis.expr.values import type_name

__all__ = ["JSONPath", "JSONPathError", "parse"]

_FIELD_END = frozenset(" \t\n\r.,[]$@{}()")
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}
_FILTER = re.compile(r"\s*(@[^!=<>\s]*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_SLICE = re.compile(r"(-?[0-9]*)(?::(-?[0-9]*))?(?::(-?[0-9]*))?")


class JSONPathError(ValueError):
    """A template that does not parse, or a path that does not fit the data."""


_Step: TypeAlias = "_Field | _Wildcard | _Recursive | _Slice | _Indexes | _Filter"


@dataclass(frozen=True)
class _Field:
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Wildcard:
    pass


@dataclass(frozen=True)
class _Recursive:
    pass


@dataclass(frozen=True)
class _Slice:
    start: int | None
    end: int | None
    step: int | None
    single: bool


@dataclass(frozen=True)
class _Indexes:
    indexes: tuple[int, ...]


@dataclass(frozen=True)
class _Filter:
    left: tuple[_Step, ...]
    operator: str | None
    right: object
    """A literal, or a tuple of steps for a path relative to the item (``@.b``)."""


@dataclass(frozen=True)
class JSONPath:
    """A parsed template: literal text segments and paths, in order."""

    segments: tuple[str | tuple[_Step, ...], ...]

    def find(self, data: Any) -> list[list[Any]]:
        """``FindResults``: one list of values per segment (text segments yield their text)."""
        results: list[list[Any]] = []
        for segment in self.segments:
            if isinstance(segment, str):
                results.append([segment])
            else:
                results.append(_walk([data], segment))
        return results

    def first(self, data: Any) -> tuple[bool, Any]:
        """(found, value): the first value any segment yields, as Argo's web provider takes it."""
        for values in self.find(data):
            if values:
                return True, values[0]
        return False, None


def parse(template: str) -> JSONPath:
    """Parse a Kubernetes JSONPath template; raises :class:`JSONPathError`."""
    segments: list[str | tuple[_Step, ...]] = []
    position = 0
    while position < len(template):
        start = template.find("{", position)
        if start < 0:
            segments.append(template[position:])
            break
        if start > position:
            segments.append(template[position:start])
        end = template.find("}", start)
        if end < 0:
            raise JSONPathError("unclosed action")
        segments.append(_Parser(template[start + 1 : end]).steps())
        position = end + 1
    return JSONPath(tuple(segments))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def steps(self) -> tuple[_Step, ...]:
        text = self.text.strip()
        if text.split(" ")[0] in ("range", "end"):
            raise JSONPathError("range/end loops are not supported in a metric jsonPath")
        self.text, self.position = text, 0
        steps: list[_Step] = []
        while self.position < len(self.text):
            char = self.text[self.position]
            if char in "$@" and not steps:
                self.position += 1
            elif self.text.startswith("..", self.position):
                self.position += 1  # the second dot starts the field that follows
                steps.append(_Recursive())
            elif char == ".":
                self.position += 1
                steps.append(self._field())
            elif char == "[":
                steps.append(self._bracket())
            elif char in " \t":
                self.position += 1
            else:
                raise JSONPathError(f"unrecognized character in action: {char!r} in {{{self.text}}}")
        return tuple(steps)

    def _field(self) -> _Step:
        start = self.position
        while self.position < len(self.text) and self.text[self.position] not in _FIELD_END:
            self.position += 1
        name = self.text[start : self.position]
        if name == "*":
            return _Wildcard()
        if not name and self.position < len(self.text) and self.text[self.position] == "[":
            return self._bracket()
        return _Field((name,))

    def _bracket(self) -> _Step:
        end = self._closing_bracket()
        inner = self.text[self.position + 1 : end].strip()
        self.position = end + 1
        if inner == "*":
            return _Wildcard()
        if inner.startswith("?"):
            return _parse_filter(inner)
        if inner[:1] in ("'", '"'):
            return _Field(tuple(_quoted(part.strip()) for part in _split_union(inner)))
        if "," in inner:
            try:
                return _Indexes(tuple(int(part) for part in inner.split(",")))
            except ValueError:
                raise JSONPathError(f"invalid array index {inner}") from None
        match = _SLICE.fullmatch(inner)
        if not match or not inner:
            raise JSONPathError(f"invalid array index {inner}")
        start, stop, step = (int(group) if group else None for group in match.groups())
        single = ":" not in inner
        if single and start is None:
            raise JSONPathError(f"invalid array index {inner}")
        return _Slice(start, stop, step, single)

    def _closing_bracket(self) -> int:
        depth = 0
        quote: str | None = None
        for index in range(self.position, len(self.text)):
            char = self.text[index]
            if quote:
                quote = None if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
                if depth == 0:
                    return index
        raise JSONPathError(f"unterminated array in {{{self.text}}}")


def _split_union(text: str) -> list[str]:
    parts: list[str] = []
    current = ""
    quote: str | None = None
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts


def _quoted(text: str) -> str:
    if len(text) < 2 or text[0] != text[-1] or text[0] not in "'\"":
        raise JSONPathError(f"invalid field name {text}")
    return text[1:-1]


def _parse_filter(inner: str) -> _Filter:
    if not (inner.startswith("?(") and inner.endswith(")")):
        raise JSONPathError(f"invalid filter {inner}")
    match = _FILTER.fullmatch(inner[2:-1])
    if not match:
        raise JSONPathError(f"invalid filter {inner}")
    left_text, operator, right_text = match.groups()
    left = _Parser(left_text).steps()
    right: object = None
    if operator is not None:
        right = _literal(right_text)
    return _Filter(left, operator, right)


def _literal(text: str) -> object:
    if text.startswith("@"):
        return _Parser(text).steps()
    if text[:1] in ("'", '"'):
        return _quoted(text)
    if _NUMBER.fullmatch(text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    raise JSONPathError(f"invalid filter literal {text}")


# --------------------------------------------------------------------------------------------
# Evaluation


def _walk(values: list[Any], steps: tuple[_Step, ...]) -> list[Any]:
    for step in steps:
        values = _apply(values, step)
    return values


def _apply(values: list[Any], step: _Step) -> list[Any]:
    if isinstance(step, _Field):
        return _fields(values, step.names)
    if isinstance(step, _Wildcard):
        return _wildcard(values)
    if isinstance(step, _Recursive):
        return _descendants(values)
    if isinstance(step, _Filter):
        return _filter(values, step)
    return _index(values, step)


def _fields(values: list[Any], names: tuple[str, ...]) -> list[Any]:
    if not values:
        return []
    found = [value[name] for value in values if isinstance(value, Mapping) for name in names if name in value]
    if not found:
        raise JSONPathError(f"{names[-1]} is not found")
    return found


def _wildcard(values: list[Any]) -> list[Any]:
    found: list[Any] = []
    for value in values:
        if isinstance(value, list):
            found.extend(value)
        elif isinstance(value, Mapping):
            found.extend(value[key] for key in sorted(value))
    return found


def _descendants(values: list[Any]) -> list[Any]:
    found: list[Any] = []
    pending = list(reversed(values))
    while pending:
        value = pending.pop()
        found.append(value)
        children = (
            value
            if isinstance(value, list)
            else [value[k] for k in sorted(value)]
            if isinstance(value, Mapping)
            else []
        )
        pending.extend(reversed(children))
    return found


def _index(values: list[Any], step: _Slice | _Indexes) -> list[Any]:
    found: list[Any] = []
    for value in values:
        if value is None:
            continue
        if not isinstance(value, list):
            raise JSONPathError(f"{type_name(value)} is not array or slice")
        if isinstance(step, _Indexes):
            for index in step.indexes:
                found.extend(_index([value], _Slice(index, None, None, single=True)))
            continue
        length = len(value)
        start = step.start or 0
        start += length if start < 0 else 0
        if step.single:
            end = start + 1
        else:
            end = length if step.end is None else step.end + (length if step.end < 0 else 0)
        if end == start:
            continue
        if not 0 <= start < length:
            raise JSONPathError(f"array index out of bounds: index {start}, length {length}")
        if not 0 <= end <= length:
            raise JSONPathError(f"array index out of bounds: index {end - 1}, length {length}")
        if start > end:
            raise JSONPathError(f"starting index {start} is greater than ending index {end}")
        step_size = 1 if step.step is None else step.step
        if step_size <= 0:
            raise JSONPathError("step must be > 0")
        found.extend(value[start:end:step_size])
    return found


def _filter(values: list[Any], step: _Filter) -> list[Any]:
    found: list[Any] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        for item in items:
            left = _optional(item, step.left)
            if not left:
                continue
            if step.operator is None:
                found.append(item)
                continue
            right = _optional(item, step.right) if isinstance(step.right, tuple) else [step.right]
            if right and _compare(step.operator, left[0], right[0]):
                found.append(item)
    return found


def _optional(item: Any, steps: tuple[_Step, ...]) -> list[Any]:
    try:
        return _walk([item], steps)
    except JSONPathError:
        return []


def _compare(operator: str, left: Any, right: Any) -> bool:
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (left, right))
    if not numbers and type(left) is not type(right):
        if operator in ("==", "!="):
            return operator == "!="
        raise JSONPathError(f"incompatible types for comparison: {type_name(left)} and {type_name(right)}")
    if isinstance(left, list | Mapping | bool) and operator not in ("==", "!="):
        raise JSONPathError(f"invalid type for comparison: {type_name(left)}")
    return _COMPARISONS[operator](left, right)
