"""A compiled expression: parse once, evaluate many times against different environments."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from analysis.expr import nodes
from analysis.expr.errors import ExprError
from analysis.expr.evaluator import Evaluation
from analysis.expr.limits import DEFAULT_LIMITS, Limits
from analysis.expr.parser import parse


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Program:
    """An immutable syntax tree with its source; safe to share and reuse."""

    source: str
    tree: nodes.Node = field(repr=False)
    limits: Limits = field(default=DEFAULT_LIMITS, repr=False)

    def evaluate(self, env: Mapping[str, Any], *, clock: Callable[[], datetime] = utc_now) -> Any:
        """The value of the expression for ``env``; raises only ``ExprError``."""
        return Evaluation(self.source, env, self.limits, clock).run(self.tree)


def compile_expression(text: str, limits: Limits = DEFAULT_LIMITS) -> Program:
    """Parse ``text``; a malformed expression raises ``ExprError`` naming the position."""
    if not isinstance(text, str):
        raise ExprError(f"expression must be a string, got {type(text).__name__}")
    try:
        return Program(text, parse(text, limits), limits)
    except RecursionError:
        raise ExprError("expression is too complex to parse") from None
