"""Bounds on the work and memory one expression may use.

Conditions come from AnalysisTemplates anyone with edit rights can write, and ``result`` comes from
a metric provider we do not control, so every dimension that could grow without bound has a cap:
the text, the nesting of the tree (Python recursion), the number of evaluation steps (time) and the
size of every value an operator builds (memory). Exceeding one is an ``ExprError`` like any other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """The caps applied while compiling and evaluating one expression."""

    max_source_length: int = 10_000
    """Characters in the expression text."""

    max_depth: int = 100
    """Nesting of the syntax tree; keeps the recursive parser and evaluator far from Python's limit."""

    max_steps: int = 1_000_000
    """Evaluation steps: one per node visited, plus one per element an operation touches."""

    max_collection_size: int = 100_000
    """Elements in a list or map built by an operator (ranges, map(), split(), ...)."""

    max_string_length: int = 100_000
    """Characters in a string built by an operator (concatenation, repeat(), join(), ...)."""

    max_value_depth: int = 64
    """Nesting of a value walked recursively (equality, string(), toJSON(), flattening)."""

    max_pattern_length: int = 1_000
    """Characters in a regular expression used with ``matches``."""


DEFAULT_LIMITS = Limits()
