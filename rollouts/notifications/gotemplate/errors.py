"""The one exception the template package lets escape.

Templates come from a ConfigMap anyone with edit rights can change, so every failure — a syntax
error, an unsupported construct, a type mismatch while rendering, an exhausted budget — is a
``TemplateError`` naming the template and the ``line:column`` where it happened, in the spirit of
Go's ``template: name:1:12: ...`` messages. Callers need a single ``except``.
"""

from __future__ import annotations


class TemplateError(Exception):
    """A template could not be parsed or rendered."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is None or self.column is None:
            return self.message
        return f"{self.line}:{self.column}: {self.message}"

    @classmethod
    def at(cls, message: str, source: str, offset: int) -> TemplateError:
        offset = max(0, min(offset, len(source)))
        line = source.count("\n", 0, offset) + 1
        column = offset - (source.rfind("\n", 0, offset) + 1) + 1
        return cls(message, line, column)
