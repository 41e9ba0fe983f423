"""The one exception the expression package lets escape.

Every failure (a malformed expression, a type mismatch at run time, an exhausted budget) becomes an
``ExprError`` so callers need a single ``except`` and can turn it into an Error measurement. The
message names the position in the expression, ``line:column`` counted from 1, in the style of
expr-lang: ``unexpected token ")" (1:12)``.
"""

from __future__ import annotations


class ExprError(Exception):
    """An expression could not be compiled or evaluated."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is None or self.column is None:
            return self.message
        return f"{self.message} ({self.line}:{self.column})"

    @classmethod
    def at(cls, message: str, source: str, offset: int) -> ExprError:
        """An error located at a character ``offset`` of ``source``."""
        line, column = position(source, offset)
        return cls(message, line, column)


def position(source: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a character offset."""
    offset = max(0, min(offset, len(source)))
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column
