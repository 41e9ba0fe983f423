"""The syntax tree: immutable nodes, each remembering where it starts in the source.

Nodes are plain frozen dataclasses so a compiled ``Program`` can be shared between threads and
evaluated any number of times. ``children`` lets generic walks (the depth check) stay iterative.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    offset: int

    def children(self) -> Iterator[Node]:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                yield from _nodes_in(value)


def _nodes_in(items: tuple[Any, ...]) -> Iterator[Node]:
    for item in items:
        if isinstance(item, Node):
            yield item
        elif isinstance(item, tuple):
            yield from _nodes_in(item)


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """nil, true/false, an integer, a float or a string."""

    value: bool | int | float | str | None


@dataclass(frozen=True, slots=True)
class Identifier(Node):
    """A variable of the environment, of a ``let``, or ``$env``."""

    name: str


@dataclass(frozen=True, slots=True)
class Pointer(Node):
    """``#`` (the current element of a closure), ``#index`` or ``#acc``; ``.field`` starts with one."""

    name: str


@dataclass(frozen=True, slots=True)
class Unary(Node):
    operator: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    operator: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    """``cond ? a : b`` and ``if cond { a } else { b }``."""

    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Member(Node):
    """``obj.name``, ``obj[key]`` and their optional ``?.`` forms."""

    obj: Node
    key: Node
    optional: bool


@dataclass(frozen=True, slots=True)
class Slice(Node):
    obj: Node
    start: Node | None
    stop: Node | None


@dataclass(frozen=True, slots=True)
class Chain(Node):
    """Marks the end of a postfix chain containing ``?.``: a nil there makes the whole chain nil."""

    node: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A call of a built-in or of a function from the environment."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MethodCall(Node):
    """``value.Method(args)``: only the few methods of times and durations exist."""

    obj: Node
    name: str
    args: tuple[Node, ...]
    optional: bool


@dataclass(frozen=True, slots=True)
class Closure(Node):
    """A predicate argument such as ``{# > 1}``; evaluated once per element by the built-in."""

    body: Node


@dataclass(frozen=True, slots=True)
class ArrayLiteral(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLiteral(Node):
    pairs: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class Let(Node):
    """``let name = value; body``."""

    name: str
    value: Node
    body: Node
