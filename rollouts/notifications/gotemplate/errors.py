"""The one exception the template package lets escape.

Templates come from a ConfigMap anyone with edit rights can change, so every failure — a syntax
error, an unsupported construct, a type mismatch while rendering, an exhausted budget — is a
``TemplateError`` naming the template and the ``line:column`` where it happened, in the spirit of
Go's ``template: name:1:12: ...`` messages. Callers need a single ``except``.
"""

from __future__ import annotations

from analysis.expr.errors import position


class TemplateError(Exception):
    """A template could not be parsed or rendered."""

    def __init__(self, message: str, where: str = "") -> None:
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)

    @classmethod
    def at(cls, message: str, source: str, offset: int) -> TemplateError:
        """An error located at a character ``offset`` of ``source`` (``line:column`` from 1)."""
        line, column = position(source, offset)
        return cls(message, f"{line}:{column}")
