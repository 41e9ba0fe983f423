"""The syntax tree of a parsed template: plain frozen dataclasses, shared freely once built."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias


@dataclass(frozen=True)
class Field:
    """``.a.b`` (``names`` empty for a bare ``.``)."""

    names: tuple[str, ...]
    offset: int


@dataclass(frozen=True)
class Variable:
    """``$x.a.b``; ``$`` alone is the root data."""

    name: str
    names: tuple[str, ...]
    offset: int


@dataclass(frozen=True)
class Function:
    name: str
    offset: int


@dataclass(frozen=True)
class Literal:
    value: Any
    offset: int


@dataclass(frozen=True)
class Nested:
    """``(pipeline)`` optionally followed by ``.a.b``."""

    pipeline: Pipeline
    names: tuple[str, ...]
    offset: int


Operand: TypeAlias = Field | Variable | Function | Literal | Nested


@dataclass(frozen=True)
class Command:
    operands: tuple[Operand, ...]
    offset: int


@dataclass(frozen=True)
class Pipeline:
    variables: tuple[str, ...]
    """Declared (``$x :=``) or assigned (``$x =``) variables; for range, ``$i, $v :=``."""
    assign: bool
    commands: tuple[Command, ...]
    offset: int


@dataclass(frozen=True)
class TextNode:
    text: str


@dataclass(frozen=True)
class Output:
    pipeline: Pipeline


@dataclass(frozen=True)
class Branch:
    """``if``, ``with`` or ``range``: the body when the pipeline is truthy, else ``otherwise``."""

    kind: str
    pipeline: Pipeline
    body: tuple[Node, ...]
    otherwise: tuple[Node, ...]


@dataclass(frozen=True)
class LoopControl:
    kind: str
    """``break`` or ``continue``."""
    offset: int


Node: TypeAlias = TextNode | Output | Branch | LoopControl
